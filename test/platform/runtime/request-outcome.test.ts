import assert from 'node:assert/strict';

import { createPlatformMetrics } from '../../../src/platform/metrics/index.js';
import { recordFinished } from '../../../src/platform/runtime/metrics-wiring.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import { sample } from './platform-support.js';

const ledger = { record: async () => undefined };

function finished(id: string, state: TaskRecord['state']): TaskRecord {
  return {
    id,
    tenantId: 'tenant-alpha',
    request: { route: 'chat', maxOutputTokens: 8, mode: 'async', priority: 'batch' },
    state,
    createdAt: 1_000,
    finishedAt: 1_500,
    deliveries: 1,
  };
}

describe('recordFinished request outcome', () => {
  it('counts each terminal state as its own outcome', async () => {
    const metrics = createPlatformMetrics();
    recordFinished(metrics, ledger, finished('t1', 'succeeded'), 0);
    recordFinished(metrics, ledger, finished('t2', 'failed'), 0);
    recordFinished(metrics, ledger, finished('t3', 'dead_lettered'), 0);
    recordFinished(metrics, ledger, finished('t4', 'dead_lettered'), 0);
    const text = await metrics.registry.metrics();
    const count = (outcome: string) =>
      sample(
        text,
        'scalegate_requests_total',
        `tenant="tenant-alpha",route="chat",outcome="${outcome}"`,
      );
    assert.equal(count('succeeded'), 1);
    assert.equal(count('failed'), 1);
    assert.equal(count('dead_lettered'), 2);
  });
});
