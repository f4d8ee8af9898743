import type { ScenarioSpec } from '../src/harness/scenario/types.js';
import { INTERACTIVE_SLO, INTERACTIVE_TENANTS, LOCAL_GATEWAY } from './defaults.js';

/** Constant Poisson chat traffic: 5 requests/s (300/min) for one minute, all synchronous. */
export const steadyChat: ScenarioSpec = {
  name: 'steady-chat',
  description: 'Constant-rate synchronous chat completions from the interactive tenants.',
  target: LOCAL_GATEWAY,
  durationSec: 60,
  arrival: { kind: 'constant', ratePerSec: 5 },
  tenants: INTERACTIVE_TENANTS,
  routes: [
    { route: 'chat', weight: 7 },
    { route: 'chat-fast', weight: 3 },
  ],
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
  slo: INTERACTIVE_SLO,
};
