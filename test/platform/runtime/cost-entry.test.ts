import assert from 'node:assert/strict';

import { costEntryOf } from '../../../src/platform/runtime/cost-entry.js';
import type { TaskRecord, TaskRequest } from '../../../src/platform/task.js';

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
