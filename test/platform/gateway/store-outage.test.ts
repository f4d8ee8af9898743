/**
 * The gateway over Redis admission and a Redis task store on a redis-server of the
 * test's own, which the test pauses with SIGSTOP. Commands sent while it is paused
 * wait in the socket and run once it resumes, so these tests also check that a
 * request that got 503 leaves no open ticket, bound key or queued task behind.
 */
import assert from 'node:assert/strict';

import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';

import { RedisAdmissionBackend } from '../../../src/platform/admission/redis-backend.js';
import { systemClock } from '../../../src/platform/clock.js';
import { buildGateway } from '../../../src/platform/gateway/app.js';
import type { TaskEnqueuer } from '../../../src/platform/gateway/ports.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import { BackendAdmissionGate } from '../../../src/platform/runtime/admission-gate.js';
import { DirectExecutor } from '../../../src/platform/runtime/direct-executor.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { RedisTaskStore } from '../../../src/platform/store/redis.js';
import { TenantRegistry } from '../../../src/platform/tenants/registry.js';
import { OwnRedisServer } from '../../support/redis-server.js';
import { ALPHA_KEY, bearer, RecordingOwners, ScriptedRouter, testTenant } from './fake-platform.js';

const STORE_TIMEOUT_MS = 500;
const ASYNC_TASK = { route: 'default', maxOutputTokens: 8, mode: 'async' };

interface OutageGateway {
  app: FastifyInstance;
  store: RedisTaskStore;
  admission: RedisAdmissionBackend;
  enqueued: string[];
  /** Tasks passed to `onTaskFailed`, in order. */
  failed: TaskRecord[];
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('gateway with its Redis paused', function () {
  this.timeout(60_000);
  let server: OwnRedisServer;
  let redis: Redis;
  let gateway: OutageGateway;
  let enqueue: TaskEnqueuer['enqueue'];

  function buildOutageGateway(owners?: RecordingOwners): OutageGateway {
    const store = new RedisTaskStore({ redis, keyPrefix: 'outage:store' });
    const admission = new RedisAdmissionBackend({ redis, keyPrefix: 'outage:admission:' });
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    const enqueued: string[] = [];
    const failed: TaskRecord[] = [];
    const app = buildGateway({
      tenants: new TenantRegistry([testTenant('tenant-alpha', ALPHA_KEY)]),
      store,
      admission: new BackendAdmissionGate(admission, () => 0.01),
      executor: new DirectExecutor({ router: new ScriptedRouter(), finisher, clock: systemClock }),
      queue: {
        enqueue: async (id, data, options) => {
          enqueued.push(id);
          return enqueue(id, data, options);
        },
      },
      routes: { names: () => ['default'] },
      storeTimeoutMs: STORE_TIMEOUT_MS,
      storeName: 'the task store on Redis',
      syncOwners: owners,
      onTaskFailed: (record) => failed.push(record),
    });
    return { app, store, admission, enqueued, failed };
  }

  async function post(headers: Record<string, string> = {}) {
    const started = Date.now();
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), ...headers },
      payload: ASYNC_TASK,
    });
    return { response, elapsedMs: Date.now() - started };
  }

  beforeEach(async () => {
    server = await OwnRedisServer.start();
    redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
    enqueue = async (id) => ({ id, duplicate: false });
    gateway = buildOutageGateway();
  });

  afterEach(async () => {
    server.resume();
    await gateway.app.close();
    redis.disconnect();
    await server.kill();
  });

  it('rejects a task with 503 and no open ticket', async () => {
    server.pause();
    const { response, elapsedMs } = await post();
    assert.equal(response.statusCode, 503);
    assert.ok(elapsedMs < 3000, `the request took ${elapsedMs} ms`);
    assert.equal(response.headers['retry-after'], '1');
    assert.equal(response.json().error.code, 'store_unavailable');
    assert.match(response.json().error.message, /^the task store on Redis is unavailable \(/);

    // The admission script waited in the socket and runs now; its ticket must be closed.
    server.resume();
    await waitUntil(
      async () => (await gateway.admission.usage({ id: 'tenant-alpha' })).inFlight === 0,
      10_000,
      'closing the ticket of the timed-out admission',
    );
    const accepted = await post();
    assert.equal(accepted.response.statusCode, 202);
    assert.equal((await gateway.admission.usage({ id: 'tenant-alpha' })).inFlight, 1);
  });

  it('marks a task failed when its enqueue times out', async () => {
    // The queue stops replying after the task record is stored.
    enqueue = () => {
      server.pause();
      return new Promise(() => undefined);
    };
    const { response, elapsedMs } = await post();
    assert.equal(response.statusCode, 503);
    assert.ok(elapsedMs < 3000, `the request took ${elapsedMs} ms`);
    assert.equal(response.json().error.code, 'store_unavailable');
    const [id] = gateway.enqueued;
    assert.ok(id !== undefined);

    await new Promise((resolve) => setTimeout(resolve, 1500));
    server.resume();
    await waitUntil(
      async () => (await gateway.store.getById(id))?.state === 'failed',
      15_000,
      'marking the task failed',
    );
    const record = await gateway.store.getById(id);
    assert.equal(record?.error?.code, 'store_unavailable');
    const accounting = await gateway.store.accounting();
    assert.equal(accounting.accepted, 1);
    assert.equal(accounting.queued, 0);
    assert.equal(accounting.failed, 1);
    await waitUntil(
      async () => (await gateway.admission.usage({ id: 'tenant-alpha' })).inFlight === 0,
      10_000,
      'releasing the ticket of the failed task',
    );
  });

  it('reports the enqueue-timed-out task once', async () => {
    enqueue = () => {
      server.pause();
      return new Promise(() => undefined);
    };
    const { response } = await post();
    assert.equal(response.statusCode, 503);
    const [id] = gateway.enqueued;
    assert.ok(id !== undefined);
    // The failure write times out at least once while Redis is paused, so it is retried.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(gateway.failed.length, 0);

    server.resume();
    await waitUntil(async () => gateway.failed.length > 0, 15_000, 'reporting the failed task');
    // A late reply of a timed-out attempt must not report the task again.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(gateway.failed.length, 1);
    assert.equal(gateway.failed[0]?.id, id);
    assert.equal(gateway.failed[0]?.state, 'failed');
    assert.equal(gateway.failed[0]?.error?.code, 'store_unavailable');
  });

  it('keeps the owner record until the undo lands', async () => {
    const owners = new RecordingOwners();
    await gateway.app.close();
    gateway = buildOutageGateway(owners);
    enqueue = () => {
      server.pause();
      return new Promise(() => undefined);
    };
    const { response } = await post();
    assert.equal(response.statusCode, 503);
    const [id] = gateway.enqueued;
    assert.ok(id !== undefined);
    // The failure write and the ticket release wait for Redis, so the record must stay.
    assert.deepEqual(owners.events, [`hold ${id}`]);

    server.resume();
    await waitUntil(
      async () => owners.events.includes(`drop ${id}`),
      15_000,
      'dropping the owner record',
    );
    assert.equal((await gateway.store.getById(id))?.state, 'failed');
    assert.equal((await gateway.admission.usage({ id: 'tenant-alpha' })).inFlight, 0);
  });

  it('frees the Idempotency-Key of a rejected task', async () => {
    server.pause();
    const first = await post({ 'idempotency-key': 'outage-key' });
    assert.equal(first.response.statusCode, 503);
    assert.equal(first.response.json().error.code, 'store_unavailable');

    server.resume();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const retry = await post({ 'idempotency-key': 'outage-key' });
    assert.equal(retry.response.statusCode, 202);
    assert.equal(retry.response.headers['idempotent-replayed'], undefined);
  });

  it('returns 503 for a task read', async () => {
    const accepted = await post();
    assert.equal(accepted.response.statusCode, 202);
    const id = String(accepted.response.json().id);

    server.pause();
    const started = Date.now();
    const read = await gateway.app.inject({
      method: 'GET',
      url: `/v1/tasks/${id}`,
      headers: bearer(ALPHA_KEY),
    });
    const elapsedMs = Date.now() - started;
    assert.equal(read.statusCode, 503);
    assert.ok(elapsedMs < 3000, `the read took ${elapsedMs} ms`);
    assert.equal(read.headers['retry-after'], '1');
    assert.equal(read.json().error.code, 'store_unavailable');

    server.resume();
    const again = await gateway.app.inject({
      method: 'GET',
      url: `/v1/tasks/${id}`,
      headers: bearer(ALPHA_KEY),
    });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().state, 'queued');
  });
});
