/**
 * A task that the gateway stored and then failed itself, because the queue rejected its
 * job, reaches `onTaskFailed`, which feeds the request metrics of the platform.
 */
import assert from 'node:assert/strict';

import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import { systemClock } from '../../../src/platform/clock.js';
import { buildGateway } from '../../../src/platform/gateway/app.js';
import { BackendAdmissionGate } from '../../../src/platform/runtime/admission-gate.js';
import { DirectExecutor } from '../../../src/platform/runtime/direct-executor.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import { TenantRegistry } from '../../../src/platform/tenants/registry.js';
import {
  ALPHA_KEY,
  ASYNC_TASK,
  bearer,
  ScriptedRouter,
  SYNC_TASK,
  testTenant,
} from './fake-platform.js';

/**
 * Builds a gateway on a memory store and admission around `queue`, which records each task
 * the gateway reports failed.
 */
function gatewayWith(options: {
  store?: MemoryTaskStore;
  queue: Parameters<typeof buildGateway>[0]['queue'];
  storeTimeoutMs?: number;
}) {
  const store = options.store ?? new MemoryTaskStore();
  const admission = new MemoryAdmissionBackend();
  const finisher = new TaskFinisher({ store, admission, clock: systemClock });
  const failed: TaskRecord[] = [];
  const app = buildGateway({
    tenants: new TenantRegistry([testTenant('tenant-alpha', ALPHA_KEY)]),
    store,
    admission: new BackendAdmissionGate(admission, () => 0.01),
    executor: new DirectExecutor({ router: new ScriptedRouter(), finisher, clock: systemClock }),
    queue: options.queue,
    routes: { names: () => ['default'] },
    ...(options.storeTimeoutMs === undefined ? {} : { storeTimeoutMs: options.storeTimeoutMs }),
    onTaskFailed: (record) => failed.push(record),
  });
  return { app, store, failed };
}

function gatewayWithFailingQueue() {
  return gatewayWith({
    queue: {
      enqueue: async () => {
        throw new Error('queue is closed');
      },
    },
  });
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('gateway task whose enqueue failed', () => {
  it('reports the stored failure once', async () => {
    const { app, store, failed } = gatewayWithFailingQueue();
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: bearer(ALPHA_KEY),
        payload: ASYNC_TASK,
      });
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().error.limit, 'queue');

      await waitUntil(() => failed.length > 0, 5000, 'reporting the failed task');
      assert.equal(failed.length, 1);
      assert.equal(failed[0]?.state, 'failed');
      assert.equal(failed[0]?.error?.code, 'enqueue_failed');
      const accounting = await store.accounting();
      assert.equal(accounting.accepted, 1);
      assert.equal(accounting.failed, 1);
    } finally {
      await app.close();
    }
  });
});

/** Memory store whose `create` stores the task at once but replies only after `delayMs`. */
class SlowCreateStore extends MemoryTaskStore {
  constructor(private readonly delayMs: number) {
    super();
  }

  override async create(...args: Parameters<MemoryTaskStore['create']>) {
    const created = await super.create(...args);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return created;
  }
}

describe('gateway sync task whose create timed out', () => {
  it('reports the stored failure once', async () => {
    const { app, failed } = gatewayWith({
      store: new SlowCreateStore(300),
      // A sync task never reaches the queue.
      queue: { enqueue: async (id: string) => ({ id, duplicate: false }) },
      storeTimeoutMs: 50,
    });
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: bearer(ALPHA_KEY),
        payload: SYNC_TASK,
      });
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().error.code, 'store_unavailable');

      await waitUntil(() => failed.length > 0, 5000, 'reporting the failed task');
      assert.equal(failed.length, 1);
      assert.equal(failed[0]?.request.mode, 'sync');
      assert.equal(failed[0]?.error?.code, 'store_unavailable');
    } finally {
      await app.close();
    }
  });
});
