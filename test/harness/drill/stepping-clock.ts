import type { Clock } from '../../../src/platform/clock.js';

/** A {@link steppingClock}; `advance` moves its time forward, as a slow call would. */
export type SteppingClock = Clock & { advance(ms: number): void };

/**
 * Creates a clock whose sleep advances virtual time at once and resolves on the next turn of the
 * event loop, so drills run in milliseconds with exact offsets while real sockets still work.
 */
export function steppingClock(startMs = 1_780_000_000_000): SteppingClock {
  let elapsed = 0;
  return {
    advance: (ms) => {
      elapsed += ms;
    },
    now: () => startMs + elapsed,
    monotonic: () => elapsed,
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        elapsed += ms;
        setImmediate(() => (signal?.aborted ? reject(signal.reason) : resolve()));
      }),
    setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
    clearTimeout: (handle) => globalThis.clearTimeout(handle),
  };
}
