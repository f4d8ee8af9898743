import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { systemClock } from '../../../src/platform/clock.js';
import {
  type BullmqTaskQueue,
  type TaskQueue,
  createBullmqQueue,
} from '../../../src/platform/queue/index.js';
import {
  type HarnessQueueOptions,
  overlapTracker,
  type QueueHarness,
  runQueueConformance,
} from './conformance.js';

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

describe('BullMQ queue handles', function () {
  this.timeout(20_000);

  it('keep the global cap another handle set', async () => {
    const suffix = randomBytes(6).toString('hex');
    const shared = {
      connection: TEST_REDIS_URL,
      name: `cap-${suffix}`,
      prefix: `sgtest-${suffix}`,
    };
    const capped = createBullmqQueue<number>({ ...shared, globalConcurrency: 1 });
    try {
      const tracker = overlapTracker();
      capped.consume(tracker.wrap(systemClock, 50), { concurrency: 4 });
      // A producer opened later without a cap, as a gateway replica would be.
      const producer = createBullmqQueue<number>(shared);
      try {
        for (let index = 0; index < 8; index += 1) {
          await producer.enqueue(`job-${index}`, index);
        }
        const deadline = Date.now() + 15_000;
        while ((await producer.counts()).completed < 8 && Date.now() < deadline) {
          await systemClock.sleep(20);
        }
        assert.equal((await producer.counts()).completed, 8);
        assert.equal(tracker.max, 1);
      } finally {
        await producer.close();
      }
    } finally {
      await capped.obliterate();
    }
  });
});
