import type { ScenarioSpec } from '../src/harness/scenario/types.js';
import { LOCAL_GATEWAY } from './defaults.js';

/**
 * Long agent tasks (3 to 8 model calls with tool waits) submitted mostly
 * asynchronously, mixed with short chat calls from the interactive tenants.
 */
export const agentMix: ScenarioSpec = {
  name: 'agent-mix',
  description: 'Multi-step agent tasks with tool waits, mostly async, plus short chats.',
  target: LOCAL_GATEWAY,
  durationSec: 120,
  arrival: { kind: 'constant', ratePerSec: 2 },
  tenants: [
    { tenantId: 'tenant-alpha', weight: 3 },
    { tenantId: 'tenant-beta', weight: 3 },
    { tenantId: 'tenant-batch', weight: 4 },
  ],
  routes: [
    { route: 'chat', weight: 6 },
    { route: 'summarize', weight: 4 },
  ],
  tasks: {
    source: 'distribution',
    kinds: [
      {
        name: 'agent',
        weight: 7,
        inputTokens: { kind: 'lognormal', median: 2000, p95: 8000 },
        outputTokens: { kind: 'lognormal', median: 250, p95: 900 },
        steps: { kind: 'uniform', min: 3, max: 8 },
        toolWaitMs: { kind: 'lognormal', median: 800, p95: 3000 },
      },
      {
        name: 'chat',
        weight: 3,
        inputTokens: { kind: 'lognormal', median: 600, p95: 2500 },
        outputTokens: { kind: 'lognormal', median: 120, p95: 500 },
      },
    ],
  },
  modes: { sync: 3, async: 7 },
  slo: { successRate: 0.98, p95LatencyMs: 60_000 },
};
