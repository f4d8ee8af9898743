import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import type { CostEntry } from '../../../src/platform/cost/ledger.js';
import { RouterError } from '../../../src/platform/router/router-errors.js';
import { costEntryOf } from '../../../src/platform/runtime/cost-entry.js';
import { SpentTokensError } from '../../../src/platform/runtime/model-router.js';
import { createTaskHandler } from '../../../src/platform/runtime/task-consumer.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore, RedisTaskStore } from '../../../src/platform/store/index.js';
import type { TaskStore } from '../../../src/platform/store/task-store.js';
import type { TaskRecord, TaskRequest } from '../../../src/platform/task.js';
import { createManualClock } from '../admission/fake-clock.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

const ASYNC_REQUEST: TaskRequest = {
  route: 'chat',
  maxOutputTokens: 16,
  mode: 'async',
  priority: 'standard',
};

function succeeded(request: TaskRequest, times: Partial<TaskRecord>): TaskRecord {
  return {
    id: 'task-1',
    tenantId: 'tenant-alpha',
    request,
    state: 'succeeded',
    createdAt: 1_000,
    deliveries: 1,
    costUsd: 0.002,
    result: {
      text: 'done',
      provider: 'provider-a',
      model: 'gpt-4o',
      usage: { inputTokens: 10, outputTokens: 16 },
      attempts: [],
      timeToFirstTokenMs: 100,
    },
    ...times,
  };
}

describe('costEntryOf worker busy time', () => {
  it('records an async task run time', () => {
    const record = succeeded(ASYNC_REQUEST, { startedAt: 1_500, finishedAt: 4_000 });

    assert.equal(costEntryOf(record, 0)?.workerBusyMs, 2_500);
  });

  it('leaves it out for sync tasks', () => {
    const sync = { ...ASYNC_REQUEST, mode: 'sync' as const };
    const record = succeeded(sync, { startedAt: 1_500, finishedAt: 4_000 });

    assert.equal(costEntryOf(record, 0)?.workerBusyMs, undefined);
  });

  it('leaves it out without a start', () => {
    const record = succeeded(ASYNC_REQUEST, { finishedAt: 4_000 });

    assert.equal(costEntryOf(record, 0)?.workerBusyMs, undefined);
  });
});

describe('costEntryOf redelivered task busy time', () => {
  it('adds the busy time of requeued deliveries', () => {
    const record = succeeded(ASYNC_REQUEST, {
      startedAt: 10_000,
      finishedAt: 12_500,
      deliveries: 3,
      deliveryCosts: [
        { delivery: 1, costUsd: 0.001, busyMs: 1_000 },
        { delivery: 2, costUsd: 0, busyMs: 400 },
      ],
    });

    assert.equal(costEntryOf(record, 0)?.workerBusyMs, 3_900);
  });

  it('counts no time for a delivery without one', () => {
    // Delivery 2 was lost with a killed worker process, so it has no entry.
    const record = succeeded(ASYNC_REQUEST, {
      startedAt: 10_000,
      finishedAt: 12_500,
      deliveries: 3,
      deliveryCosts: [{ delivery: 1, costUsd: 0.001 }],
    });

    assert.equal(costEntryOf(record, 0)?.workerBusyMs, 2_500);
  });
});

const stores: {
  name: string;
  make: () => TaskStore;
  clear: (store: TaskStore) => Promise<void>;
}[] = [
  { name: 'MemoryTaskStore', make: () => new MemoryTaskStore(), clear: async () => undefined },
  {
    name: 'RedisTaskStore',
    make: () =>
      new RedisTaskStore({ redis: REDIS_URL, keyPrefix: `test-busy-time-${randomUUID()}` }),
    clear: async (store) => {
      if (store instanceof RedisTaskStore) await store.clear();
    },
  },
];

for (const driver of stores) {
  describe(`task handler busy time on ${driver.name}`, () => {
    const tenant = {
      id: 'tenant-alpha',
      requestsPerMinute: 100,
      tokensPerMinute: 100_000,
      maxInFlight: 5,
      budgetUsd: 10,
    };
    let store: TaskStore;

    beforeEach(() => {
      store = driver.make();
    });

    afterEach(async () => {
      await driver.clear(store);
      await store.close();
    });

    it('records a retried delivery with the entry', async () => {
      const clock = createManualClock();
      const admission = new MemoryAdmissionBackend();
      const entries: CostEntry[] = [];
      const finisher = new TaskFinisher({
        store,
        admission,
        clock,
        onFinished: ({ record, executorCostUsd, spentUsage }) => {
          const entry = costEntryOf(record, executorCostUsd, spentUsage);
          if (entry !== undefined) entries.push(entry);
        },
      });
      const decision = await admission.admit({ tenant, tokens: 100, maxCostUsd: 1 });
      assert.ok(decision.admitted);
      await store.create({
        id: 't1',
        tenantId: tenant.id,
        request: ASYNC_REQUEST,
        state: 'queued',
        createdAt: clock.now(),
        deliveries: 0,
      });
      // Delivery 1 runs 1.5 s and fails; delivery 2 runs 0.7 s and fails for good.
      const runsMs = [1_500, 700];
      let call = 0;
      const router = {
        call: async (): Promise<never> => {
          clock.tick(runsMs[call] ?? 0);
          call += 1;
          throw new SpentTokensError(new RouterError('upstream_error', 'stream cut'), 0.125);
        },
      };
      const handler = createTaskHandler({ store, router, finisher, clock, maxAttempts: 2 });
      const job = (attempt: number) => ({
        id: 't1',
        data: { ticket: decision.ticket },
        attempt,
        deliveries: attempt,
        enqueuedAt: clock.now(),
      });

      await assert.rejects(handler(job(1)));
      const requeued = await store.getById('t1');
      assert.deepEqual(requeued?.deliveryCosts, [{ delivery: 1, costUsd: 0.125, busyMs: 1_500 }]);
      clock.tick(5_000);
      await assert.rejects(handler(job(2)));

      assert.equal((await store.getById('t1'))?.state, 'dead_lettered');
      assert.equal(entries.length, 1);
      assert.equal(entries[0]?.workerBusyMs, 2_200);
    });
  });
}
