import { randomBytes } from 'node:crypto';

import { systemClock } from '../../../src/platform/clock.js';
import {
  type BullmqTaskQueue,
  type TaskQueue,
  createBullmqQueue,
} from '../../../src/platform/queue/index.js';
import { type HarnessQueueOptions, type QueueHarness, runQueueConformance } from './conformance.js';

/** Redis every BullMQ test uses; each queue gets a random name and prefix. */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

function bullmqHarness(): QueueHarness {
  const queues: BullmqTaskQueue<unknown>[] = [];
  return {
    clock: systemClock,
    stepMs: 20,
    budgetMs: 15_000,
    create<T>(options: HarnessQueueOptions = {}): TaskQueue<T> {
      const suffix = randomBytes(6).toString('hex');
      const queue = createBullmqQueue<T>({
        backoffBaseMs: 10,
        ...options,
        connection: TEST_REDIS_URL,
        name: `conformance-${suffix}`,
        prefix: `sgtest-${suffix}`,
      });
      queues.push(queue as BullmqTaskQueue<unknown>);
      return queue;
    },
    advance: (ms) => systemClock.sleep(ms),
    cleanup: async () => {
      await Promise.all(queues.map((queue) => queue.obliterate()));
    },
  };
}

runQueueConformance('bullmq', bullmqHarness);
