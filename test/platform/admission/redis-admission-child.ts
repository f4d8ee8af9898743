/**
 * Child process for the two-process admission test. It reads its settings
 * from argv[2] as JSON, reports 'ready' once connected, fires its requests
 * concurrently on 'go', sends the tally to the parent and exits.
 */
import { RedisAdmissionBackend } from '../../../src/platform/admission/index.js';
import type { TenantLimits } from '../../../src/platform/tenants/index.js';

interface ChildSettings {
  keyPrefix: string;
  requests: number;
  nowMs: number;
  tenant: TenantLimits;
}

export interface ChildTally {
  admitted: number;
  rejectedByReason: Record<string, number>;
  minRetryAfterSeconds: number;
}

const settings: ChildSettings = JSON.parse(process.argv[2] ?? '{}');
const send = (message: unknown): void => {
  process.send?.(message);
};

const backend = new RedisAdmissionBackend({
  keyPrefix: settings.keyPrefix,
  clock: {
    now: () => settings.nowMs,
    monotonic: () => settings.nowMs,
    sleep: async () => undefined,
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
  },
});

async function fire(): Promise<ChildTally> {
  const request = { tenant: settings.tenant, tokens: 100, maxCostUsd: 0 };
  const jobs = Array.from({ length: settings.requests }, () => backend.admit(request));
  const tally: ChildTally = { admitted: 0, rejectedByReason: {}, minRetryAfterSeconds: Infinity };
  for (const result of await Promise.all(jobs)) {
    if (result.admitted) {
      tally.admitted += 1;
      continue;
    }
    tally.rejectedByReason[result.reason] = (tally.rejectedByReason[result.reason] ?? 0) + 1;
    tally.minRetryAfterSeconds = Math.min(tally.minRetryAfterSeconds, result.retryAfterSeconds);
  }
  return tally;
}

process.on('message', (message) => {
  if (message !== 'go') {
    return;
  }
  fire()
    .then((tally) => send({ tally }))
    .catch((error: unknown) => send({ error: String(error) }))
    .finally(() => {
      void backend.close().then(() => process.exit(0));
    });
});

await backend.usage(settings.tenant);
send('ready');
