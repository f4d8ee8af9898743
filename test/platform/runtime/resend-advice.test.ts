import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';
import { request } from 'undici';

import { systemClock } from '../../../src/platform/clock.js';
import { startPlatform } from '../../../src/platform/runtime.js';
import {
  RedisSyncTaskOwners,
  startSyncTaskOwners,
} from '../../../src/platform/runtime/sync-task-owners.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { postTask, waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** The advice both errors end with, since a resend with the same key replays the error. */
const ADVICE =
  'send the task again, with a new Idempotency-Key if the request had one, because a request with the same key returns this error';

describe('errors that advise a resend', function () {
  this.timeout(30_000);

  it('names a new key in platform_shutdown', async () => {
    const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    const platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: '',
    });
    const task = { route: 'bench', maxOutputTokens: 8, mode: 'sync', toolWaitMs: 20_000 };
    const reply = postTask(platform.urls.gateway, key, task);
    await waitFor(async () => (await platform.store.accounting()).running === 1, 5_000);
    await platform.stop({ drainTimeoutMs: 200 });
    const { status, json } = await reply;
    assert.equal(status, 503);
    assert.deepEqual(json.error, {
      code: 'platform_shutdown',
      message: `the platform shut down before the task finished; ${ADVICE}`,
    });
  });

  it('names a new key in client_aborted', async () => {
    const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    const platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: '',
    });
    try {
      const task = { route: 'bench', maxOutputTokens: 8, mode: 'sync', toolWaitMs: 20_000 };
      const headers = { 'idempotency-key': `resend-advice-${randomUUID()}` };
      const abort = new AbortController();
      const first = request(`${platform.urls.gateway}/v1/tasks`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          ...headers,
        },
        body: JSON.stringify(task),
        signal: abort.signal,
      });
      await waitFor(async () => (await platform.store.accounting()).running === 1, 5_000);
      abort.abort();
      await assert.rejects(first);
      await waitFor(async () => (await platform.store.accounting()).failed === 1, 5_000);
      const { status, json } = await postTask(platform.urls.gateway, key, task, headers);
      assert.equal(status, 499);
      assert.deepEqual(json.error, {
        code: 'client_aborted',
        message: `the client closed the request before the task ended; ${ADVICE}`,
      });
    } finally {
      await platform.stop();
    }
  });

  it('names a new key in gateway_lost', async () => {
    const keyPrefix = `test-resend-advice-${randomUUID()}`;
    const store = new MemoryTaskStore();
    const request = { route: 'chat', maxOutputTokens: 8, mode: 'sync', priority: 'standard' };
    await store.create({
      id: 'task-1',
      tenantId: 'tenant-a',
      request: request as TaskRecord['request'],
      state: 'running',
      createdAt: Date.now(),
      deliveries: 1,
    });

    const lost = new RedisSyncTaskOwners({
      redisUrl: REDIS_URL,
      keyPrefix,
      leaseMs: 300,
      onOrphan: async () => {},
    });
    await lost.start();
    await lost.hold('tenant-a', 'task-1');
    // Closing deletes the lease but keeps the task's entry, as a SIGKILL leaves it.
    await lost.close();

    const ended: TaskRecord[] = [];
    const survivor = await startSyncTaskOwners({
      redisUrl: REDIS_URL,
      keyPrefix,
      leaseMs: 300,
      store,
      admission: { release: async () => ({ outcome: 'applied' as const, runs: [] }) },
      queue: { hasJob: async () => false },
      clock: systemClock,
      onEnded: (record) => ended.push(record),
    });
    const redis = new Redis(REDIS_URL);
    try {
      await survivor.sweep();
      await sleep(400);
      await survivor.sweep();
      assert.equal(ended.length, 1);
      assert.equal(ended[0]?.error?.code, 'gateway_lost');
      assert.equal(
        ended[0]?.error?.message,
        `platform process ${lost.instanceId}, which ran this sync task, stopped without ending it; ${ADVICE}`,
      );
    } finally {
      await survivor.close();
      const keys = await redis.keys(`${keyPrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });
});
