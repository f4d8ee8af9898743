import { packagePath } from '../src/package-path.js';
import type { ScenarioSpec } from '../src/harness/scenario/types.js';
import { LOCAL_GATEWAY, REPLAY_TENANTS } from './defaults.js';

/**
 * Replays the Azure conversation trace 8 times faster than recorded: the first
 * 40 minutes of trace in 5 minutes, 14,176 requests, about 2,800 requests/min on
 * average, with every minute above 2,200. Prompt and completion sizes come from the
 * trace rows.
 */
export const convReplay: ScenarioSpec = {
  name: 'conv-replay',
  description: 'Azure LLM conversation trace 2023, sped up 8x, sizes from the trace.',
  target: LOCAL_GATEWAY,
  durationSec: 300,
  arrival: {
    kind: 'trace',
    file: packagePath('fixtures/traces/azure-llm-2023-conv.csv'),
    speedUp: 8,
  },
  tenants: REPLAY_TENANTS,
  routes: [{ route: 'chat', weight: 1 }],
  tasks: { source: 'trace' },
  modes: { sync: 9, async: 1 },
  slo: { successRate: 0.99, p95LatencyMs: 8000 },
};
