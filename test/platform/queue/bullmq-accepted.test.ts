import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';

import { systemClock } from '../../../src/platform/clock.js';
import { type BullmqTaskQueue, createBullmqQueue } from '../../../src/platform/queue/index.js';

const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

describe('BullMQ accepted count', function () {
  this.timeout(20_000);

  let queue: BullmqTaskQueue<unknown>;
  let redis: Redis;
  let keyBase: string;

  beforeEach(() => {
    const suffix = randomBytes(6).toString('hex');
    const prefix = `sgtest-${suffix}`;
    const name = `accepted-${suffix}`;
    keyBase = `${prefix}:${name}`;
    queue = createBullmqQueue<unknown>({
      connection: TEST_REDIS_URL,
      name,
      prefix,
      retentionMs: 1000,
    });
    redis = new Redis(TEST_REDIS_URL);
  });

  afterEach(async () => {
    redis.disconnect();
    await queue.obliterate();
  });

  async function waitForCompleted(count: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    while ((await queue.counts()).completed < count && Date.now() < deadline) {
      await systemClock.sleep(20);
    }
  }

  it('counts no job whose add failed', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;

    // JSON.stringify throws inside BullMQ's add, after the claim went out.
    await assert.rejects(queue.enqueue('lost', circular), TypeError);

    assert.equal((await queue.counts()).accepted, 0);
    assert.equal(await queue.hasJob('lost'), false);
    const retry = await queue.enqueue('lost', 'data');
    assert.equal(retry.duplicate, false);
    queue.consume(async () => undefined, { concurrency: 1 });
    await waitForCompleted(1);
    assert.deepEqual(await queue.counts(), {
      accepted: 1,
      completed: 1,
      failed: 0,
      deadLettered: 0,
    });
  });

  it('counts no claim of a killed producer', async () => {
    // What a producer killed between its claim and its job add leaves in Redis.
    await redis.set(`${keyBase}:scalegate:claim:orphan`, '1', 'PX', 60_000);

    assert.equal((await queue.counts()).accepted, 0);
    // The retry finds the claim, so it reports a duplicate, and adds the job.
    const retry = await queue.enqueue('orphan', 'data');
    assert.equal(retry.duplicate, true);
    queue.consume(async () => undefined, { concurrency: 1 });
    await waitForCompleted(1);
    assert.deepEqual(await queue.counts(), {
      accepted: 1,
      completed: 1,
      failed: 0,
      deadLettered: 0,
    });
  });

  it('keeps no key per id past retention', async () => {
    queue.consume(async () => undefined, { concurrency: 1 });
    for (let index = 0; index < 5; index += 1) await queue.enqueue(`old-${index}`, index);
    await waitForCompleted(5);
    assert.equal((await redis.keys(`${keyBase}:scalegate:*`)).length, 5, 'one claim per id');

    await systemClock.sleep(1100);
    await queue.enqueue('trigger', 'data');
    await waitForCompleted(6);

    assert.deepEqual(await redis.keys(`${keyBase}:scalegate:*`), ['trigger'].map(claimKey));
    assert.deepEqual(await redis.keys(`${keyBase}:id-old-*`), []);
    assert.equal((await queue.counts()).accepted, 6);
  });

  function claimKey(id: string): string {
    return `${keyBase}:scalegate:claim:${id}`;
  }
});
