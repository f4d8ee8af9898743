import FakeTimers from '@sinonjs/fake-timers';

import type { Clock } from '../../../src/platform/clock.js';
import { type TaskQueue, createMemoryQueue } from '../../../src/platform/queue/index.js';
import { type HarnessQueueOptions, type QueueHarness, runQueueConformance } from './conformance.js';

type FakeClock = ReturnType<typeof FakeTimers.createClock>;

/** Builds a Clock over a fake-timers clock that only this harness advances. */
function fakeClock(): { clock: Clock; fake: FakeClock } {
  const fake = FakeTimers.createClock(1_000_000);
  const clock: Clock = {
    now: () => fake.now,
    monotonic: () => fake.now,
    sleep: (ms) => new Promise<void>((resolve) => fake.setTimeout(() => resolve(), ms)),
    setTimeout: (callback, ms) => fake.setTimeout(callback, ms) as unknown as NodeJS.Timeout,
    clearTimeout: (handle) =>
      fake.clearTimeout(handle as unknown as Parameters<FakeClock['clearTimeout']>[0]),
  };
  return { clock, fake };
}

function memoryHarness(): QueueHarness {
  const { clock, fake } = fakeClock();
  const queues: TaskQueue<unknown>[] = [];
  let count = 0;
  return {
    clock,
    stepMs: 10,
    budgetMs: 60_000,
    create<T>(options: HarnessQueueOptions = {}): TaskQueue<T> {
      count += 1;
      const queue = createMemoryQueue<T>({
        backoffBaseMs: 10,
        ...options,
        name: `memory-${count}`,
        clock,
      });
      queues.push(queue as TaskQueue<unknown>);
      return queue;
    },
    advance: async (ms) => {
      await fake.tickAsync(ms);
    },
    cleanup: async () => {
      await Promise.all(queues.map((queue) => queue.close()));
    },
  };
}

runQueueConformance('memory', memoryHarness);
