import FakeTimers from '@sinonjs/fake-timers';
import type { Clock } from '../../../src/platform/clock.js';

/** A Clock on fake time that tests advance while real sockets keep working. */
export interface TestClock extends Clock {
  /** Advances fake time in steps, with a real 1 ms pause per step, until `promise` settles. */
  drive<T>(promise: Promise<T>, options?: { stepMs?: number; limitMs?: number }): Promise<T>;
}

const realSetTimeout = globalThis.setTimeout;

/** Creates a fake-time clock starting at 0. */
export function createTestClock(): TestClock {
  const fake = FakeTimers.createClock(0);
  const setTimer = (callback: () => void, ms: number): NodeJS.Timeout =>
    fake.setTimeout(callback, ms) as unknown as NodeJS.Timeout;
  const clearTimer = (handle: NodeJS.Timeout): void => {
    fake.clearTimeout(handle as unknown as FakeTimers.TimerId);
  };
  return {
    now: () => fake.now,
    monotonic: () => fake.now,
    setTimeout: setTimer,
    clearTimeout: clearTimer,
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const timer = setTimer(() => resolve(), ms);
        signal?.addEventListener('abort', () => {
          clearTimer(timer);
          reject(signal.reason);
        });
      }),
    drive: async (promise, options = {}) => {
      const stepMs = options.stepMs ?? 10;
      const limit = fake.now + (options.limitMs ?? 60_000);
      let settled = false;
      promise.then(
        () => (settled = true),
        () => (settled = true),
      );
      while (!settled && fake.now < limit) {
        await new Promise((resolve) => realSetTimeout(resolve, 1));
        await fake.tickAsync(stepMs);
      }
      return promise;
    },
  };
}
