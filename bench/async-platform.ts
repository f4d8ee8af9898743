/**
 * The platform the async benches load: Redis store and admission, BullMQ,
 * forked worker processes, and one bench tenant without limits. The mock
 * providers are the far side of the platform, not part of it: they run in a
 * process of their own, and no fault proxy relays their bytes.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Platform, startPlatform } from '../src/platform/runtime.js';
import { hashApiKey } from '../src/platform/tenants/api-key.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A started bench platform; `close` purges its keys, stops it and removes its tenants file. */
export interface AsyncBenchPlatform {
  platform: Platform;
  close(): Promise<void>;
}

/**
 * Starts the platform with a bench tenant whose key is `tenantKey`, under a fresh
 * key prefix. BENCH_WORKER_PROCESSES sets the worker processes, default 2.
 */
export async function startAsyncBenchPlatform(tenantKey: string): Promise<AsyncBenchPlatform> {
  const dir = await mkdtemp(join(tmpdir(), 'scalegate-bench-'));
  const tenantsPath = join(dir, 'tenants.yaml');
  const tenant = [
    '  - id: tenant-bench',
    `    keySha256: ${hashApiKey(tenantKey)}`,
    '    tier: standard',
    '    requestsPerMinute: 10000000',
    '    tokensPerMinute: 1000000000',
    '    maxInFlight: 1000000',
    '    budgetUsd: 1000000',
  ];
  await writeFile(tenantsPath, ['tenants:', ...tenant, ''].join('\n'));
  const platform = await startPlatform({
    topology: 'workers=50 serverless_burst=disabled',
    workerProcesses: Number(process.env.BENCH_WORKER_PROCESSES ?? 2),
    providerProcess: 'child',
    faultProxy: false,
    redisUrl: REDIS_URL,
    keyPrefix: `bench-gateway-${randomUUID()}`,
    tenantsPath,
    backpressure: { maxQueueDepth: 1_000_000, maxOldestAgeMs: 600_000 },
  });
  const close = async () => {
    try {
      await platform.purge();
      await platform.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  return { platform, close };
}

/** Tasks of the platform's store that reached a terminal state. */
export async function endedTasks(platform: Platform): Promise<number> {
  const counts = await platform.store.accounting();
  return counts.succeeded + counts.failed + counts.dead_lettered;
}

/** Polls until `count` more tasks than `endedBefore` ended, or fails after `limitMs`. */
export async function waitForEnded(
  platform: Platform,
  endedBefore: number,
  count: number,
  limitMs = 120_000,
): Promise<void> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const done = (await endedTasks(platform)) - endedBefore;
    if (done >= count) return;
    if (performance.now() > deadline) {
      throw new Error(`only ${done} of ${count} tasks ended in ${limitMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
