import assert from 'node:assert/strict';

import type { FastifyInstance } from 'fastify';

import {
  createBackpressure,
  type QueueGauges,
} from '../../../src/platform/admission/backpressure.js';
import type {
  BackpressureGate,
  ReadinessCheck,
  ReadinessResult,
} from '../../../src/platform/gateway/ports.js';
import { ProviderError } from '../../../src/platform/providers/errors.js';
import { QueueBackpressureGate } from '../../../src/platform/runtime/admission-gate.js';
import { RouterError } from '../../../src/platform/router/router-errors.js';
import {
  ALPHA_KEY,
  ASYNC_TASK,
  BETA_KEY,
  bearer,
  completion,
  fakePlatform,
  RecordingOwners,
  SYNC_TASK,
  testTenant,
} from './fake-platform.js';
import { createManualClock } from '../admission/fake-clock.js';

/** Builds a backpressure gate with the platform's default limits over fixed queue gauges. */
function backpressureAt(gauges: QueueGauges): BackpressureGate {
  const rule = createBackpressure({ maxQueueDepth: 10_000, maxOldestAgeMs: 60_000 });
  return {
    check: async (priority) => {
      const decision = rule.decide(priority, gauges);
      return decision.admitted ? undefined : decision;
    },
  };
}

/** Posts `payload` as tenant-alpha, with `headers` added. */
function postTask(app: FastifyInstance, payload: object, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: { ...bearer(ALPHA_KEY), ...headers },
    payload,
  });
}

describe('gateway tasks', () => {
  it('runs a sync task and returns its result', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.state, 'succeeded');
    assert.equal(body.result.text, 'hello world');
    assert.equal(body.costUsd, 0.001);
  });

  it('answers a task failed elsewhere with its error', async () => {
    const platform = fakePlatform();
    platform.router.behaviour = async () => {
      // Another process fails the running task first, as after a lost lease.
      for (const id of platform.store.unfinishedIds()) {
        const error = { code: 'gateway_lost', message: 'owner stopped' };
        await platform.store.complete(id, { state: 'failed', finishedAt: Date.now(), error });
      }
      return completion('late');
    };
    const response = await postTask(platform.app, SYNC_TASK);
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error.code, 'gateway_lost');
    assert.equal(response.json().error.message, 'owner stopped');
  });

  it('drops the owner record when the task ends', async () => {
    const owners = new RecordingOwners();
    const platform = fakePlatform({ syncOwners: owners });
    const response = await postTask(platform.app, SYNC_TASK);
    assert.equal(response.statusCode, 200);
    const { id } = response.json();
    assert.deepEqual(owners.events, [`hold ${id}`, `drop ${id}`]);
  });

  it('drops the owner record of a rejected task', async () => {
    const owners = new RecordingOwners();
    // A budget below one task's 0.01 reservation rejects the task at admission.
    const tenants = [testTenant('tenant-alpha', ALPHA_KEY, { budgetUsd: 0.005 })];
    const platform = fakePlatform({ syncOwners: owners, tenants });
    const response = await postTask(platform.app, SYNC_TASK);
    assert.equal(response.statusCode, 429);
    assert.equal(owners.events.length, 2);
    assert.match(owners.events[0] ?? '', /^hold /);
    assert.equal(owners.events[1], owners.events[0]?.replace('hold', 'drop'));
  });

  it('drops the owner record of a queued task', async () => {
    const owners = new RecordingOwners();
    const platform = fakePlatform({ syncOwners: owners });
    const response = await postTask(platform.app, ASYNC_TASK);
    assert.equal(response.statusCode, 202);
    const { id } = response.json();
    assert.equal(platform.enqueued[0]?.id, id);
    assert.deepEqual(owners.events, [`hold ${id}`, `drop ${id}`]);
  });

  it('accepts an async task with 202 and Location', async () => {
    const { app, enqueued } = fakePlatform();
    const response = await postTask(app, { ...ASYNC_TASK, priority: 'batch' });
    assert.equal(response.statusCode, 202);
    const { id, state } = response.json();
    assert.equal(state, 'queued');
    assert.equal(response.headers.location, `/v1/tasks/${id}`);
    assert.equal(enqueued[0]?.id, id);
    assert.equal(enqueued[0]?.priority, 3);
  });

  it('returns a task to its tenant', async () => {
    const { app } = fakePlatform();
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: SYNC_TASK,
    });
    const { id } = created.json();
    const read = await app.inject({
      method: 'GET',
      url: `/v1/tasks/${id}`,
      headers: bearer(ALPHA_KEY),
    });
    assert.equal(read.statusCode, 200);
    assert.equal(read.json().state, 'succeeded');
    assert.equal(typeof read.json().finishedAt, 'number');
  });

  it("answers 404 for another tenant's task", async () => {
    const { app } = fakePlatform();
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: ASYNC_TASK,
    });
    const { id } = created.json();
    const read = await app.inject({
      method: 'GET',
      url: `/v1/tasks/${id}`,
      headers: bearer(BETA_KEY),
    });
    assert.equal(read.statusCode, 404);
    assert.equal(read.json().error.code, 'not_found');
    assert.equal(
      read.json().error.message,
      `task ${id} not found for tenant tenant-beta; a tenant reads only the tasks it created, and a finished task only until its retention ends, so check the id that POST /v1/tasks returned and the API key`,
    );
    assert.equal(read.headers['x-task-id'], undefined);
  });

  it('executes an idempotent request once', async () => {
    const { app, router } = fakePlatform();
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: { ...bearer(ALPHA_KEY), 'idempotency-key': 'order-42' },
        payload: SYNC_TASK,
      });
    const first = await send();
    const second = await send();
    assert.equal(second.json().id, first.json().id);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal(router.calls.length, 1);
  });

  it('sends X-Task-Id on every task response', async () => {
    const { app, router } = fakePlatform();
    const sync = await postTask(app, SYNC_TASK);
    assert.equal(sync.statusCode, 200);
    assert.equal(sync.headers['x-task-id'], sync.json().id);
    const queued = await postTask(app, ASYNC_TASK);
    assert.equal(queued.statusCode, 202);
    assert.equal(queued.headers['x-task-id'], queued.json().id);
    const read = await app.inject({
      method: 'GET',
      url: `/v1/tasks/${sync.json().id}`,
      headers: bearer(ALPHA_KEY),
    });
    assert.equal(read.headers['x-task-id'], sync.json().id);
    const first = await postTask(app, SYNC_TASK, { 'idempotency-key': 'order-7' });
    const replayed = await postTask(app, SYNC_TASK, { 'idempotency-key': 'order-7' });
    assert.equal(replayed.headers['idempotent-replayed'], 'true');
    assert.equal(replayed.headers['x-task-id'], first.json().id);
    router.behaviour = async () => {
      throw new ProviderError('status_5xx', 'upstream 500', {
        provider: 'provider-a',
        model: 'gpt-4o',
      });
    };
    const failed = await postTask(app, SYNC_TASK);
    assert.equal(failed.statusCode, 502);
    assert.equal(failed.headers['x-task-id'], failed.json().id);
  });

  it('rejects a priority above the tenant tier', async () => {
    const tenants = [testTenant('tenant-alpha', ALPHA_KEY, { tier: 'standard' })];
    const { app, enqueued } = fakePlatform({ tenants });
    const response = await postTask(app, { ...ASYNC_TASK, priority: 'critical' });
    assert.equal(response.statusCode, 403);
    assert.deepEqual(response.json().error, {
      code: 'priority_above_tier',
      message:
        'invalid field priority: critical is above tier standard of tenant tenant-alpha; send standard or batch, leave priority out, or raise the tier in the tenants file',
      field: 'priority',
    });
    assert.equal(enqueued.length, 0);
  });

  it('accepts a priority below the tenant tier', async () => {
    const tenants = [testTenant('tenant-alpha', ALPHA_KEY, { tier: 'standard' })];
    const { app, enqueued } = fakePlatform({ tenants });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...ASYNC_TASK, priority: 'batch' },
    });
    assert.equal(response.statusCode, 202);
    assert.equal(enqueued.length, 1);
  });

  it('replays a failed sync task with its error status', async () => {
    const { app, router } = fakePlatform();
    router.behaviour = async () => {
      throw new RouterError('upstream_error', 'provider-a answered 500');
    };
    const send = () => postTask(app, SYNC_TASK, { 'idempotency-key': 'order-43' });
    const first = await send();
    assert.equal(first.statusCode, 502);
    router.behaviour = async () => completion('too late');
    const second = await send();
    assert.equal(second.statusCode, 502);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.deepEqual(second.json(), first.json());
    assert.equal(router.calls.length, 1);
  });

  it('replays the Retry-After of a failed sync task', async () => {
    const { app, router } = fakePlatform();
    router.behaviour = async () => {
      throw new RouterError('budget_exhausted', 'budget spent', { retryAfterMs: 60_000 });
    };
    const send = () => postTask(app, SYNC_TASK, { 'idempotency-key': 'order-44' });
    const first = await send();
    const second = await send();
    assert.equal(first.statusCode, 429);
    assert.equal(first.headers['retry-after'], '60');
    assert.equal(second.statusCode, 429);
    assert.equal(second.headers['retry-after'], '60');
  });

  it('keeps idempotency keys apart per tenant', async () => {
    const { app, enqueued } = fakePlatform();
    const send = (key: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: { ...bearer(key), 'idempotency-key': 'shared-key' },
        payload: ASYNC_TASK,
      });
    const alpha = await send(ALPHA_KEY);
    const beta = await send(BETA_KEY);
    assert.notEqual(alpha.json().id, beta.json().id);
    assert.equal(enqueued.length, 2);
  });

  it('rejects over the request rate with 429 naming the limit', async () => {
    const tenants = [testTenant('tenant-alpha', ALPHA_KEY, { requestsPerMinute: 2 })];
    const { app } = fakePlatform({ tenants });
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: bearer(ALPHA_KEY),
        payload: ASYNC_TASK,
      });
    await send();
    await send();
    const third = await send();
    assert.equal(third.statusCode, 429);
    assert.equal(third.json().error.limit, 'requests_per_minute');
    assert.equal(third.json().error.code, 'rate_limited');
    assert.equal(third.headers['retry-after'], '30');
  });

  it('rejects over budget with 429 naming the limit', async () => {
    const tenants = [testTenant('tenant-alpha', ALPHA_KEY, { budgetUsd: 0.015 })];
    const { app } = fakePlatform({ tenants });
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: bearer(ALPHA_KEY),
        payload: ASYNC_TASK,
      });
    assert.equal((await send()).statusCode, 202);
    const second = await send();
    assert.equal(second.statusCode, 429);
    assert.equal(second.json().error.code, 'budget_exhausted');
    assert.equal(second.json().error.limit, 'budget_usd');
    // The first task still has its reservation, so a retry may pass once it settles.
    assert.match(
      second.json().error.message,
      /retry after 60 s, when running tasks may have freed/,
    );
    assert.match(second.json().error.message, /this task's reservation of \$0\.01000;/);
    assert.equal(second.headers['retry-after'], '60');
  });

  it('says a budget rejection needs a larger budget when nothing runs', async () => {
    const tenants = [testTenant('tenant-alpha', ALPHA_KEY, { budgetUsd: 0.01 })];
    const { app } = fakePlatform({ tenants });
    const send = () => postTask(app, SYNC_TASK);
    assert.equal((await send()).statusCode, 200);
    const second = await send();
    assert.equal(second.statusCode, 429);
    assert.equal(
      second.json().error.message,
      "budget_usd limit of 0.01 for tenant tenant-alpha leaves no room for this task's reservation of $0.01000, and freeing the reservations of running tasks would not make room; raise budgetUsd in the tenants file, or lower maxOutputTokens or the input, which size the reservation",
    );
  });

  it('names the queue depth hard limit in a 503', async () => {
    const { app } = fakePlatform({
      backpressure: backpressureAt({ depth: 10_000, oldestAgeMs: 0 }),
    });
    const response = await postTask(app, { ...ASYNC_TASK, priority: 'batch' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error.code, 'overloaded');
    assert.equal(response.json().error.limit, 'queue_depth');
    assert.equal(
      response.json().error.message,
      'queue_depth limit of 10000 reached for every request to this platform; retry after 1 s',
    );
  });

  it('names the queue age hard limit in a 503', async () => {
    // The depth is past the batch watermark of 5000 too, but the age reached the hard limit.
    const gauges = { depth: 6_000, oldestAgeMs: 60_000 };
    const { app } = fakePlatform({ backpressure: backpressureAt(gauges) });
    const response = await postTask(app, { ...ASYNC_TASK, priority: 'batch' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error.limit, 'queue_oldest_age_ms');
    assert.equal(
      response.json().error.message,
      'queue_oldest_age_ms limit of 60000 reached for every request to this platform; retry after 60 s',
    );
  });

  it('names the class watermark in a 429', async () => {
    const { app } = fakePlatform({
      backpressure: backpressureAt({ depth: 6_000, oldestAgeMs: 0 }),
    });
    const response = await postTask(app, { ...ASYNC_TASK, priority: 'batch' });
    assert.equal(response.statusCode, 429);
    assert.equal(response.json().error.limit, 'queue_depth');
    assert.equal(
      response.json().error.message,
      'queue_depth limit of 5000 for batch requests reached on this platform; retry after 1 s',
    );
  });

  it('names the tier class in a 429', async () => {
    // A request without priority is in its tenant's tier, batch here.
    const { app } = fakePlatform({
      tenants: [testTenant('tenant-alpha', ALPHA_KEY, { tier: 'batch' })],
      backpressure: backpressureAt({ depth: 6_000, oldestAgeMs: 0 }),
    });
    const response = await postTask(app, ASYNC_TASK);
    assert.equal(response.statusCode, 429);
    assert.equal(response.json().error.limit, 'queue_depth');
    assert.equal(
      response.json().error.message,
      'queue_depth limit of 5000 for batch requests reached on this platform; retry after 1 s',
    );
  });

  it('stops a burst at the queue depth limit', async () => {
    // Every check reuses one sample of 3 queued tasks, because the clock never moves. The
    // standard class is shed from 8 of 10 tasks, so 5 more fit.
    const clock = createManualClock();
    let reads = 0;
    const readGauges = async () => {
      reads += 1;
      return { depth: 3, oldestAgeMs: 0 };
    };
    const rule = createBackpressure({ maxQueueDepth: 10, maxOldestAgeMs: 60_000 });
    const gate = new QueueBackpressureGate(rule, readGauges, clock, 100);
    const { app, enqueued } = fakePlatform({ backpressure: gate });
    const burst = Array.from({ length: 40 }, () => postTask(app, ASYNC_TASK));
    const statuses = (await Promise.all(burst)).map((response) => response.statusCode);
    assert.equal(reads, 1);
    assert.equal(statuses.filter((status) => status === 202).length, 5);
    assert.equal(statuses.filter((status) => status === 429).length, 35);
    assert.equal(enqueued.length, 5);
  });

  it('frees the depth of a task that admission rejected', async () => {
    const clock = createManualClock();
    const rule = createBackpressure({ maxQueueDepth: 10, maxOldestAgeMs: 60_000 });
    const gauges = async () => ({ depth: 6, oldestAgeMs: 0 });
    const gate = new QueueBackpressureGate(rule, gauges, clock, 100);
    const tenants = [
      testTenant('tenant-alpha', ALPHA_KEY, { maxInFlight: 1 }),
      testTenant('tenant-beta', BETA_KEY),
    ];
    const { app } = fakePlatform({ tenants, backpressure: gate });
    assert.equal((await postTask(app, ASYNC_TASK)).statusCode, 202);
    const rejected = await postTask(app, ASYNC_TASK);
    assert.equal(rejected.json().error.limit, 'max_in_flight');
    const beta = { ...bearer(BETA_KEY) };
    const first = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: beta,
      payload: ASYNC_TASK,
    });
    assert.equal(first.statusCode, 202);
    const second = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: beta,
      payload: ASYNC_TASK,
    });
    assert.equal(second.json().error.limit, 'queue_depth');
  });

  it('frees the depth of a check that timed out', async () => {
    const clock = createManualClock();
    let finishRead: (() => void) | undefined;
    const gauges = () =>
      new Promise<QueueGauges>((resolve) => {
        finishRead = () => resolve({ depth: 7, oldestAgeMs: 0 });
      });
    const rule = createBackpressure({ maxQueueDepth: 10, maxOldestAgeMs: 60_000 });
    const gate = new QueueBackpressureGate(rule, gauges, clock, 100);
    const { app } = fakePlatform({ backpressure: gate, storeTimeoutMs: 50 });
    const timedOut = await postTask(app, ASYNC_TASK);
    assert.equal(timedOut.json().error.code, 'store_unavailable');
    // The check passes once the read ends, with no request left to enqueue its task.
    finishRead?.();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await postTask(app, ASYNC_TASK)).statusCode, 202);
    assert.equal((await postTask(app, ASYNC_TASK)).json().error.limit, 'queue_depth');
  });

  it('sends no Retry-After for a spent budget', async () => {
    const tenants = [testTenant('tenant-alpha', ALPHA_KEY, { budgetUsd: 0.01 })];
    const { app } = fakePlatform({ tenants });
    assert.equal((await postTask(app, SYNC_TASK)).statusCode, 200);
    const second = await postTask(app, SYNC_TASK);
    assert.equal(second.statusCode, 429);
    assert.equal(second.headers['retry-after'], undefined);
  });

  it('settles the budget with the real cost', async () => {
    const { app, admission } = fakePlatform();
    await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: SYNC_TASK,
    });
    const usage = await admission.usage({ id: 'tenant-alpha' });
    assert.equal(usage.spentUsd, 0.001);
    assert.equal(usage.reservedUsd, 0);
    assert.equal(usage.inFlight, 0);
  });

  it('maps a provider failure to 502 and records it', async () => {
    const { app, router, store, admission } = fakePlatform();
    router.behaviour = async () => {
      throw new ProviderError('status_5xx', 'upstream 500', {
        provider: 'provider-a',
        model: 'gpt-4o',
      });
    };
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 502);
    const { id, error } = response.json();
    assert.equal(error.code, 'provider_status_5xx');
    const record = await store.get('tenant-alpha', id);
    assert.equal(record?.state, 'failed');
    assert.equal((await admission.usage({ id: 'tenant-alpha' })).reservedUsd, 0);
  });

  it('runs every agent step', async () => {
    const { app, router } = fakePlatform();
    router.behaviour = async () => completion('step', 0.002);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, steps: 3, toolWaitMs: 1 },
    });
    assert.equal(router.calls.length, 3);
    assert.equal(response.json().result.usage.outputTokens, 6);
    assert.equal(response.json().costUsd, 0.006);
  });

  it('never logs or labels the tenant key', async () => {
    // At debug the log also has every request line and each admitted task.
    const { app, logs } = fakePlatform({ logLevel: 'debug' });
    await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: SYNC_TASK,
    });
    await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer('sk-leaked-wrong'),
      payload: SYNC_TASK,
    });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    assert.ok(logs.length > 0);
    assert.equal(logs.join('').includes(ALPHA_KEY), false);
    assert.equal(logs.join('').includes('sk-leaked-wrong'), false);
    assert.equal(metrics.body.includes(ALPHA_KEY), false);
    assert.match(
      metrics.body,
      /scalegate_gateway_requests_total\{method="POST",route="\/v1\/tasks",status="200"\} 1/,
    );
  });

  it('answers healthz', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().status, 'ok');
  });

  it('readyz returns 503 for a failed check', async () => {
    let result: ReadinessResult = { status: 'failed', message: 'Redis at redis://x is down' };
    const check: ReadinessCheck = {
      name: 'redis',
      check: async () => result,
      lastResult: () => result,
    };
    const { app } = fakePlatform({ readiness: [check] });

    const notReady = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(notReady.statusCode, 503);
    assert.equal(notReady.headers['retry-after'], '1');
    assert.equal(notReady.json().status, 'not_ready');
    assert.equal(notReady.json().error.code, 'not_ready');
    assert.match(notReady.json().error.message, /^redis: Redis at redis:\/\/x is down; retry/);
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(health.json().checks, { redis: result });

    result = { status: 'ok', latencyMs: 1 };
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', checks: { redis: result } });
  });

  it('readyz is ready without checks', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ready', checks: {} });
  });
});
