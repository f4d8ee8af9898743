import type { ScenarioSpec } from '../src/harness/scenario/types.js';
import { LOCAL_GATEWAY } from './defaults.js';

/**
 * Constant async chat tasks from one tenant of each priority class: tenant-alpha
 * (critical), tenant-beta (standard) and tenant-batch (batch). Every task goes through the
 * queue and the async workers, so a drill that takes the workers away backs the queue up,
 * and backpressure can shed the classes in turn.
 */
export const asyncChat: ScenarioSpec = {
  name: 'async-chat',
  description: 'Constant async chat tasks from a critical, a standard and a batch tenant.',
  target: LOCAL_GATEWAY,
  durationSec: 60,
  arrival: { kind: 'constant', ratePerSec: 3 },
  tenants: [
    { tenantId: 'tenant-alpha', weight: 4 },
    { tenantId: 'tenant-beta', weight: 3 },
    { tenantId: 'tenant-batch', weight: 3 },
  ],
  routes: [{ route: 'chat', weight: 1 }],
  tasks: {
    source: 'distribution',
    kinds: [
      {
        name: 'chat',
        weight: 1,
        inputTokens: { kind: 'lognormal', median: 600, p95: 2500 },
        outputTokens: { kind: 'lognormal', median: 100, p95: 400 },
      },
    ],
  },
  modes: { sync: 0, async: 1 },
  slo: { successRate: 0.99, p95LatencyMs: 8000 },
};
