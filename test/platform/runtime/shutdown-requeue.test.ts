import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import { RedisAdmissionBackend } from '../../../src/platform/admission/redis-backend.js';
import { RedisRunSlots } from '../../../src/platform/admission/run-slots.js';
import { systemClock } from '../../../src/platform/clock.js';
import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import { isDeferError, isNonRetryableError } from '../../../src/platform/queue/index.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { createTaskHandler } from '../../../src/platform/runtime/task-consumer.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import { RedisTaskStore } from '../../../src/platform/store/redis.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { postTask, terminalRecord, TWO_STEP_TASK, waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** tenant-noisy has a maxRunning cap, so the task also takes a running slot. */
const TENANT = 'tenant-noisy';

describe('graceful stop on Redis', function () {
  this.timeout(60_000);

  for (const workerProcesses of [1, 0]) {
    const where = workerProcesses === 0 ? 'in process' : 'in a worker process';

    it(`requeues a cut async task ${where}`, async () => {
      const key = (await loadDemoKeys()).get(TENANT) ?? '';
      const keyPrefix = `test-shutdown-requeue-${randomUUID()}`;
      const options = {
        topology: 'workers=2 serverless_burst=disabled',
        redisUrl: REDIS_URL,
        keyPrefix,
        workerProcesses,
      };
      const stopping = await startPlatform(options);
      let survivor: Platform | undefined;
      const redis = new Redis(REDIS_URL);
      try {
        const reply = await postTask(stopping.urls.gateway, key, TWO_STEP_TASK);
        assert.equal(reply.status, 202);
        const id = String(reply.json.id);
        const admission = new RedisAdmissionBackend({
          redis,
          keyPrefix: `${keyPrefix}:admission:`,
        });
        // The ticket is charged once the first step's call has finished.
        await waitFor(async () => (await admission.usage({ id: TENANT })).spentUsd > 0, 10_000);
        // Started only now, so that the stopping platform's consumer takes the task.
        survivor = await startPlatform(options);
        let timedOut = false;
        await stopping.stop({ drainTimeoutMs: 200, onDrainTimeout: () => (timedOut = true) });
        assert.equal(timedOut, true);
        const afterStop = await survivor.store.getById(id);
        assert.notEqual(afterStop?.state, 'failed', JSON.stringify(afterStop?.error));

        const record = await terminalRecord(survivor, id, 30_000);
        assert.equal(record.state, 'succeeded', JSON.stringify(record.error));
        assert.equal(record.deliveries, 2);
        // The queue counts the successful attempt alone: the cut one used none. The worker
        // marks the job finished after it stores the task, so the test waits for that mark.
        const queue = new Queue('tasks', { prefix: keyPrefix, connection: redis });
        let job: Awaited<ReturnType<typeof queue.getJob>>;
        await waitFor(async () => {
          job = await queue.getJob(`id-${id}`);
          return job?.finishedOn !== undefined;
        }, 10_000);
        await queue.close();
        assert.equal(job?.attemptsMade, 1);
        assert.equal(job?.attemptsStarted, 2);
        // The cut delivery made the first call and stored it as the task's checkpoint, so the
        // delivery that succeeded made the second call only. The result's usage counts both,
        // and so does the cost.
        const prices = await loadPriceTable();
        const { result } = record;
        assert.ok(result !== undefined);
        assert.equal(result.attempts.length, 2);
        const stepsUsd = prices.priceTokens(result.provider, result.model, result.usage);
        assert.ok(stepsUsd > 0, 'the steps made billed calls');
        const costUsd = record.costUsd ?? 0;
        assert.ok(Math.abs(costUsd - stepsUsd) < 1e-12, `cost ${costUsd}`);

        const usage = await admission.usage({ id: TENANT });
        assert.equal(usage.inFlight, 0);
        assert.ok(Math.abs(usage.reservedUsd) < 1e-12, `reserved ${usage.reservedUsd}`);
        assert.ok(Math.abs(usage.spentUsd - costUsd) < 1e-12, `spent ${usage.spentUsd}`);
        const slots = new RedisRunSlots(redis, `${keyPrefix}:admission:`);
        assert.equal(await slots.running(TENANT), 0);
      } finally {
        await survivor?.purge();
        await survivor?.stop({ drainTimeoutMs: 500 });
        await stopping.stop().catch(() => undefined);
        const keys = await redis.keys(`${keyPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        await redis.quit();
      }
    });
  }

  it('fails a running sync task with platform_shutdown', async () => {
    const key = (await loadDemoKeys()).get(TENANT) ?? '';
    const keyPrefix = `test-shutdown-sync-${randomUUID()}`;
    const platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      workerProcesses: 1,
    });
    const redis = new Redis(REDIS_URL);
    try {
      // No queue delivers a sync task again, and its client waits on this process.
      const task = { route: 'chat', maxOutputTokens: 8, mode: 'sync', toolWaitMs: 20_000 };
      const reply = postTask(platform.urls.gateway, key, task);
      await waitFor(async () => (await platform.store.accounting()).running === 1, 10_000);
      await platform.stop({ drainTimeoutMs: 200 });
      const { status, json } = await reply;
      assert.equal(status, 503);
      assert.equal((json.error as { code?: string }).code, 'platform_shutdown');
      const store = new RedisTaskStore({ redis, keyPrefix: `${keyPrefix}:store` });
      assert.equal((await store.getById(String(json.id)))?.state, 'failed');
    } finally {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });

  it('runs a cut async task at the next start', async () => {
    const key = (await loadDemoKeys()).get(TENANT) ?? '';
    const keyPrefix = `test-shutdown-restart-${randomUUID()}`;
    const options = {
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      workerProcesses: 1,
    };
    const first = await startPlatform(options);
    let second: Platform | undefined;
    const redis = new Redis(REDIS_URL);
    try {
      const reply = await postTask(first.urls.gateway, key, TWO_STEP_TASK);
      const id = String(reply.json.id);
      await waitFor(async () => (await first.store.getById(id))?.state === 'running', 10_000);
      await first.stop({ drainTimeoutMs: 200 });
      const afterStop = await new RedisTaskStore({
        redis,
        keyPrefix: `${keyPrefix}:store`,
      }).getById(id);
      assert.equal(afterStop?.state, 'queued');
      assert.equal(afterStop?.deliveries, 1);

      second = await startPlatform(options);
      const record = await terminalRecord(second, id, 30_000);
      assert.equal(record.state, 'succeeded', JSON.stringify(record.error));
      assert.equal(record.deliveries, 2);
    } finally {
      await second?.purge();
      await second?.stop({ drainTimeoutMs: 500 });
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });
});

describe('createTaskHandler at shutdown', () => {
  /** Runs a two-step task whose first call costs $0.5 and cuts it in its first tool wait. */
  async function cutRun(onShutdown: 'fail' | 'requeue' | undefined) {
    const store = new MemoryTaskStore();
    const admission = new MemoryAdmissionBackend();
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    const shutdown = new AbortController();

    const result = {
      text: 'hi',
      usage: { inputTokens: 10, outputTokens: 2 },
      provider: 'p',
      model: 'm',
      attempts: [],
      timeToFirstTokenMs: 1,
    };
    const handler = createTaskHandler({
      store,
      router: { call: async () => ({ result, tokenCostUsd: 0.5 }) },
      finisher,
      clock: systemClock,
      maxAttempts: 3,
      shutdown: shutdown.signal,
      onShutdown,
    });
    const request = {
      route: 'r',
      maxOutputTokens: 2,
      mode: 'async',
      priority: 'batch',
      steps: 2,
      toolWaitMs: 60_000,
    } as const;
    await store.create({
      id: 't1',
      tenantId: 'a',
      request,
      state: 'queued',
      createdAt: Date.now(),
      deliveries: 0,
    });
    const ticket = { id: 't1', tenantId: 'a', reservedUsd: 0, tokens: 0 };
    const job = { id: 't1', data: { ticket }, attempt: 1, deliveries: 1, enqueuedAt: Date.now() };

    const run = handler(job);
    setTimeout(() => shutdown.abort(), 50);
    const error = await run.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    return { error, record: await store.getById('t1') };
  }

  it('requeues a cut task with DeferError', async () => {
    const { error, record } = await cutRun('requeue');
    assert.ok(isDeferError(error), String(error));
    assert.equal(error.delayMs, 0);
    assert.equal(record?.state, 'queued');
    assert.equal(record?.error, undefined);
    assert.equal(record?.costUsd, 0.5);
    assert.equal(record?.deliveries, 1);
  });

  it('fails a cut task by default', async () => {
    const { error, record } = await cutRun(undefined);
    assert.ok(isNonRetryableError(error), String(error));
    assert.equal(record?.state, 'failed');
    assert.equal(record?.error?.code, 'platform_shutdown');
    assert.equal(record?.costUsd, 0.5);
  });
});
