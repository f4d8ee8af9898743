/**
 * Noisy-neighbour scenarios: tenant-noisy sends ten times its 60 requests/min quota while
 * tenant-alpha and tenant-beta send chats at steady-chat's rates, 270 requests/min
 * together. The objectives cover the quiet tenants only, so a pass means the noisy tenant's
 * limits held it back without slowing or failing the others. Its rejections are the limits
 * at work.
 */
import type { ScenarioSpec, TaskKind, TenantShare } from '../src/harness/scenario/types.js';
import { INTERACTIVE_SLO, LOCAL_GATEWAY } from './defaults.js';

/** The 60 requests/min quota of tenant-noisy in fixtures/tenants.yaml, per second. */
const NOISY_QUOTA_PER_SEC = 1;
const NOISY_RATE_PER_SEC = 10 * NOISY_QUOTA_PER_SEC;

/**
 * A chat turn with steady-chat's prompts and at most 400 output tokens, about 6 s at the
 * mock models' 70 to 80 tokens/s. steady-chat's longest responses can take over 20 s, and
 * the 10 s drain cuts such a response sent near the end, which alone fails tenant-alpha's
 * 99.5% objective.
 */
const CHAT: TaskKind = {
  name: 'chat',
  weight: 1,
  inputTokens: { kind: 'lognormal', median: 1000, p95: 4000 },
  outputTokens: { kind: 'uniform', min: 50, max: 400 },
};

/** tenant-alpha and tenant-beta at steady-chat's rates: 2.5 and 2 requests/s. */
const QUIET_TENANTS: TenantShare[] = [
  { tenantId: 'tenant-alpha', weight: 2.5 },
  { tenantId: 'tenant-beta', weight: 2 },
];

const QUIET_RATE_PER_SEC = 4.5;

/** Objectives of the quiet tenants: those steady-chat sets for tenant-alpha, and beta's. */
const QUIET_SLO = {
  perTenant: {
    'tenant-alpha': { successRate: 0.995, p95LatencyMs: INTERACTIVE_SLO.p95LatencyMs },
    'tenant-beta': { successRate: 0.99, p95LatencyMs: INTERACTIVE_SLO.p95LatencyMs },
  },
};

/**
 * tenant-noisy floods with synchronous chats, a third of them with prompts of about 20,000
 * tokens. One admitted request a second then needs more than its 4,000 tokens/s, so
 * both its requests-per-minute and its tokens-per-minute limits reject requests.
 */
export const noisyFlood: ScenarioSpec = {
  name: 'noisy-flood',
  description:
    'tenant-noisy floods at 10x its requests/min with large prompts; alpha and beta send chats.',
  target: LOCAL_GATEWAY,
  durationSec: 60,
  arrival: { kind: 'constant', ratePerSec: QUIET_RATE_PER_SEC + NOISY_RATE_PER_SEC },
  tenants: [
    ...QUIET_TENANTS,
    {
      tenantId: 'tenant-noisy',
      weight: NOISY_RATE_PER_SEC,
      tasks: {
        source: 'distribution',
        kinds: [
          { ...CHAT, weight: 2 },
          {
            name: 'large-prompt',
            weight: 1,
            inputTokens: { kind: 'lognormal', median: 20_000, p95: 40_000 },
            outputTokens: { kind: 'lognormal', median: 130, p95: 600 },
          },
        ],
      },
    },
  ],
  routes: [{ route: 'chat', weight: 1 }],
  tasks: { source: 'distribution', kinds: [CHAT] },
  modes: { sync: 1, async: 0 },
  slo: QUIET_SLO,
};

/**
 * tenant-noisy floods with async agent tasks that each run about 25 s: 2 steps with 12 s
 * tool waits. Its 30 tasks in flight and 8 running async tasks bind, so its other tasks
 * wait in the queue while the quiet tenants' async tasks, a quarter of theirs, need the
 * other 16 of the default 24 workers. Its queued tasks outlast the 10 s drain, which
 * aborts them.
 */
export const noisyHold: ScenarioSpec = {
  name: 'noisy-hold',
  description:
    'tenant-noisy floods at 10x its requests/min with long async tasks; alpha and beta send chat.',
  target: LOCAL_GATEWAY,
  durationSec: 60,
  arrival: { kind: 'constant', ratePerSec: QUIET_RATE_PER_SEC + NOISY_RATE_PER_SEC },
  tenants: [
    ...QUIET_TENANTS,
    {
      tenantId: 'tenant-noisy',
      weight: NOISY_RATE_PER_SEC,
      modes: { sync: 0, async: 1 },
      tasks: {
        source: 'distribution',
        kinds: [
          {
            name: 'long-agent',
            weight: 1,
            inputTokens: { kind: 'lognormal', median: 1000, p95: 4000 },
            outputTokens: { kind: 'lognormal', median: 130, p95: 600 },
            steps: { kind: 'constant', value: 2 },
            toolWaitMs: { kind: 'constant', value: 12_000 },
          },
        ],
      },
    },
  ],
  routes: [{ route: 'chat', weight: 1 }],
  tasks: { source: 'distribution', kinds: [CHAT] },
  modes: { sync: 3, async: 1 },
  slo: QUIET_SLO,
};
