import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { systemClock } from '../../../src/platform/clock.js';
import { Redis } from 'ioredis';

import { toBullmqJobId } from '../../../src/platform/queue/bullmq-job-id.js';
import { createBullmqQueue } from '../../../src/platform/queue/index.js';
import { overlapTracker } from './conformance.js';

const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

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

  it('delete finished jobs after retention', async () => {
    const suffix = randomBytes(6).toString('hex');
    const prefix = `sgtest-${suffix}`;
    const name = `retention-${suffix}`;
    const queue = createBullmqQueue<number>({
      connection: TEST_REDIS_URL,
      name,
      prefix,
      retentionMs: 1000,
    });
    const redis = new Redis(TEST_REDIS_URL);
    const jobKey = (id: string) => `${prefix}:${name}:${toBullmqJobId(id)}`;
    const waitForCompleted = async (count: number) => {
      const deadline = Date.now() + 15_000;
      while ((await queue.counts()).completed < count && Date.now() < deadline) {
        await systemClock.sleep(20);
      }
    };
    try {
      queue.consume(async () => undefined, { concurrency: 1 });
      await queue.enqueue('first', 1);
      await waitForCompleted(1);
      assert.equal(await redis.exists(jobKey('first')), 1);
      await systemClock.sleep(1100);
      await queue.enqueue('second', 2);
      await waitForCompleted(2);
      assert.deepEqual(
        [await redis.exists(jobKey('first')), await redis.exists(jobKey('second'))],
        [0, 1],
      );
      assert.equal((await queue.counts()).completed, 2);
    } finally {
      redis.disconnect();
      await queue.obliterate();
    }
  });
});
