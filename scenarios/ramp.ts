import type { ScenarioSpec } from '../src/harness/scenario/types.js';
import { INTERACTIVE_SLO, INTERACTIVE_TENANTS, LOCAL_GATEWAY } from './defaults.js';

/** Ramps chat traffic from 1 to 30 requests/s, holds, then ramps down to 5. */
export const ramp: ScenarioSpec = {
  name: 'ramp',
  description: 'Arrival rate ramped up to 30 requests/s and back down, to find the knee.',
  target: LOCAL_GATEWAY,
  durationSec: 150,
  arrival: {
    kind: 'ramp',
    startRatePerSec: 1,
    stages: [
      { durationSec: 30, targetRatePerSec: 10 },
      { durationSec: 60, targetRatePerSec: 30 },
      { durationSec: 30, targetRatePerSec: 30 },
      { durationSec: 30, targetRatePerSec: 5 },
    ],
  },
  tenants: INTERACTIVE_TENANTS,
  routes: [{ route: 'chat', weight: 1 }],
  tasks: {
    source: 'distribution',
    kinds: [
      {
        name: 'chat',
        weight: 1,
        inputTokens: { kind: 'lognormal', median: 1000, p95: 4000 },
        outputTokens: { kind: 'lognormal', median: 130, p95: 600 },
      },
    ],
  },
  modes: { sync: 1, async: 0 },
  // tenant-noisy's tenth of the peak, 180 requests/min, is three times its 60/min quota, so
  // its 429s are the limit at work. The success objectives cover the other two tenants.
  slo: {
    p95LatencyMs: INTERACTIVE_SLO.p95LatencyMs,
    perTenant: {
      'tenant-alpha': { successRate: 0.995, p95LatencyMs: INTERACTIVE_SLO.p95LatencyMs },
      'tenant-beta': { successRate: 0.99 },
    },
  },
};
