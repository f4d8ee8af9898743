import assert from 'node:assert/strict';

import { type CostEntry, MemoryCostLedger } from '../../../src/platform/cost/index.js';
import { settledCost } from '../../../src/platform/runtime/settled-cost.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';

function costEntry(taskId: string, tenantId: string, tokenCostUsd: number): CostEntry {
  return {
    taskId,
    tenantId,
    route: 'chat',
    provider: 'provider-a',
    model: 'model-a',
    usage: { inputTokens: 10, outputTokens: 10 },
    tokenCostUsd,
    executorCostUsd: 0,
  };
}

async function runningTask(store: MemoryTaskStore, id: string, tenantId = 'tenant-a') {
  await store.create({
    id,
    tenantId,
    request: { route: 'chat', maxOutputTokens: 10, mode: 'async', priority: 'standard' },
    state: 'queued',
    createdAt: 0,
    deliveries: 0,
  });
  await store.markRunning(id, 1);
}

/** Ends the task in the store and records its cost in the ledger after `afterMs`. */
function finishLater(
  store: MemoryTaskStore,
  ledger: MemoryCostLedger,
  entry: CostEntry,
  afterMs: number,
): void {
  setTimeout(() => {
    void store.complete(entry.taskId, { state: 'succeeded', finishedAt: 2 });
    void ledger.record(entry);
  }, afterMs);
}

describe('settled cost read', () => {
  it('waits for a running task', async () => {
    const store = new MemoryTaskStore();
    const ledger = new MemoryCostLedger();
    await runningTask(store, 'task-1');
    finishLater(store, ledger, costEntry('task-1', 'tenant-a', 0.5), 150);

    const settled = await settledCost(store, ledger, { limitMs: 5_000, pollMs: 20 });

    assert.equal(settled.unsettled, 0);
    assert.equal(settled.summary.tasks, 1);
    assert.equal(settled.summary.totalUsd, 0.5);
  });

  it('waits for a late ledger write', async () => {
    const store = new MemoryTaskStore();
    const ledger = new MemoryCostLedger();
    await runningTask(store, 'task-1');
    await store.complete('task-1', { state: 'succeeded', finishedAt: 2 });
    setTimeout(() => void ledger.record(costEntry('task-1', 'tenant-a', 0.5)), 30);

    const settled = await settledCost(store, ledger, { limitMs: 5_000, pollMs: 60 });

    assert.equal(settled.summary.tasks, 1);
  });

  it('stops at the limit with the count left', async () => {
    const store = new MemoryTaskStore();
    const ledger = new MemoryCostLedger();
    await runningTask(store, 'task-1');
    await runningTask(store, 'task-2');
    await ledger.record(costEntry('task-0', 'tenant-a', 0.25));

    const started = performance.now();
    const settled = await settledCost(store, ledger, { limitMs: 200, pollMs: 20 });

    assert.equal(settled.unsettled, 2);
    assert.equal(settled.summary.tasks, 1);
    assert.ok(performance.now() - started < 2_000, 'returned long after the limit');
  });

  it('covers only the given tenants', async () => {
    const store = new MemoryTaskStore();
    const ledger = new MemoryCostLedger();
    await ledger.record(costEntry('task-1', 'tenant-a', 0.5));
    await ledger.record(costEntry('task-2', 'tenant-b', 2));

    const settled = await settledCost(store, ledger, { tenants: ['tenant-a'], pollMs: 10 });

    assert.equal(settled.summary.tasks, 1);
    assert.equal(settled.summary.totalUsd, 0.5);
  });
});
