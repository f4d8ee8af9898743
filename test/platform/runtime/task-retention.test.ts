import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { RedisCostLedger } from '../../../src/platform/cost/index.js';
import { startPlatform } from '../../../src/platform/runtime.js';
import { RedisTaskStore } from '../../../src/platform/store/redis.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { getJson, postTask, waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

const ASYNC_TASK = { route: 'chat', maxOutputTokens: 8, mode: 'async' };

/** Status of GET /v1/tasks/:id. */
async function readStatus(gateway: string, key: string, id: string): Promise<number> {
  const response = await fetch(`${gateway}/v1/tasks/${id}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  await response.arrayBuffer();
  return response.status;
}

describe('task retention', function () {
  this.timeout(30_000);

  it('expires Redis tasks a worker finished', async () => {
    const keyPrefix = `test-retention-${randomUUID()}`;
    const platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      workerProcesses: 1,
      // Long enough that a loaded machine still reads the keys before they expire.
      taskRetentionMs: 6_000,
    });
    const redis = new Redis(REDIS_URL);
    try {
      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      const accepted = await postTask(platform.urls.gateway, key, ASYNC_TASK);
      assert.equal(accepted.status, 202);
      const id = String(accepted.json.id);
      const stateOf = async () => (await platform.store.getById(id))?.state;
      await waitFor(async () => (await stateOf()) === 'succeeded', 15_000);

      // The worker process wrote the terminal state, so its store set the expiry.
      const ttlMs = await redis.pttl(`${keyPrefix}:store:task:${id}`);
      assert.ok(ttlMs > 0, `expected an expiry on the task, got ${ttlMs}`);
      assert.ok(ttlMs <= 6_000, `expected an expiry of at most 6000 ms, got ${ttlMs}`);
      const read = await getJson(`${platform.urls.gateway}/v1/tasks/${id}`, key);
      assert.equal(read.state, 'succeeded');

      // The worker process's ledger writes the cost record to a bucket of 750 ms after it
      // stored the terminal state, so the bucket can appear a moment after the state.
      const bucketPattern = `${keyPrefix}:cost:tasks:*`;
      await waitFor(async () => (await redis.keys(bucketPattern)).length > 0, 5_000);
      const buckets = await redis.keys(bucketPattern);
      assert.equal(buckets.length, 1);
      const bucketTtlMs = await redis.pttl(buckets[0] ?? '');
      assert.ok(bucketTtlMs > 0, `expected an expiry on the cost bucket, got ${bucketTtlMs}`);
      assert.ok(bucketTtlMs <= 6_750, `expected at most 6750 ms, got ${bucketTtlMs}`);

      await waitFor(async () => (await stateOf()) === undefined, 10_000);
      assert.equal(await readStatus(platform.urls.gateway, key, id), 404);
      const counts = await platform.store.accounting();
      assert.deepEqual([counts.accepted, counts.succeeded], [1, 1]);
      await waitFor(async () => (await platform.ledger.summary()).tasks === 0, 10_000);
      assert.equal((await platform.ledger.totals()).tasks, 1);
    } finally {
      await platform.stop({ drainTimeoutMs: 1_000 });
      await new RedisTaskStore({ redis, keyPrefix }).clear();
      await new RedisCostLedger({ redis, keyPrefix: `${keyPrefix}:cost:` }).clear();
      await redis.quit();
    }
  });

  it('deletes memory tasks after retention', async () => {
    const platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      taskRetentionMs: 3_000,
    });
    try {
      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      const accepted = await postTask(platform.urls.gateway, key, ASYNC_TASK);
      const id = String(accepted.json.id);
      const stateOf = async () => (await platform.store.getById(id))?.state;
      await waitFor(async () => (await stateOf()) === 'succeeded', 15_000);
      assert.equal(await readStatus(platform.urls.gateway, key, id), 200);
      assert.equal((await platform.ledger.summary()).tasks, 1);
      await new Promise((resolve) => setTimeout(resolve, 3_100));
      assert.equal(await readStatus(platform.urls.gateway, key, id), 404);
      assert.equal((await platform.store.accounting()).succeeded, 1);
      // The cost record's bucket of 375 ms expires up to 3375 ms after the record.
      await waitFor(async () => (await platform.ledger.summary()).tasks === 0, 2_000);
      assert.equal((await platform.ledger.totals()).tasks, 1);
    } finally {
      await platform.stop({ drainTimeoutMs: 1_000 });
    }
  });

  it('replays a long task past the retention', async () => {
    const platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      taskRetentionMs: 1_000,
    });
    try {
      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      // Two steps with a 2.5 s tool wait between them run longer than the retention.
      const body = { ...ASYNC_TASK, steps: 2, toolWaitMs: 2_500 };
      const retry = { 'idempotency-key': `long-${randomUUID()}` };
      const first = await postTask(platform.urls.gateway, key, body, retry);
      assert.equal(first.status, 202);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const again = await postTask(platform.urls.gateway, key, body, retry);
      assert.equal(again.json.id, first.json.id);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal((await platform.store.accounting()).accepted, 1);
    } finally {
      await platform.stop({ drainTimeoutMs: 0 });
    }
  });
});
