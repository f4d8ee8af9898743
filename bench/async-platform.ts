/**
 * The platforms the async benches load, each on Redis with forked worker
 * processes and one bench tenant without limits:
 * - the platform as `startPlatform` runs it: Redis store and admission, BullMQ,
 *   cost ledger and model router. The mock providers are the far side of the
 *   platform, not part of it: they run in a process of their own, and no fault
 *   proxy relays their bytes;
 * - the same parts wired the same way around a router that returns at once, so
 *   its rounds show what everything but the provider call costs.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Registry } from 'prom-client';

import { createBackpressure } from '../src/platform/admission/backpressure.js';
import { systemClock } from '../src/platform/clock.js';
import { loadPriceTable } from '../src/platform/cost/load-price-table.js';
import type { WorkerPoolOptions } from '../src/platform/executors/worker-pool-options.js';
import { startWorkerPool } from '../src/platform/executors/worker-pool.js';
import type { JobEndedEvent } from '../src/platform/executors/worker-protocol.js';
import { startGateway } from '../src/platform/gateway/server.js';
import { createPlatformMetrics } from '../src/platform/metrics/index.js';
import { loadProviderCatalog } from '../src/faults/providers/index.js';
import { loadPolicy } from '../src/platform/router/index.js';
import { startPlatform } from '../src/platform/runtime.js';
import {
  BackendAdmissionGate,
  QueueBackpressureGate,
} from '../src/platform/runtime/admission-gate.js';
import { DirectExecutor } from '../src/platform/runtime/direct-executor.js';
import { createDrivers, type PlatformDrivers } from '../src/platform/runtime/drivers.js';
import { recordFinished } from '../src/platform/runtime/metrics-wiring.js';
import {
  type JobEndHooks,
  reconcileQueueFailures,
  storeJobEnd,
} from '../src/platform/runtime/queue-reconciler.js';
import { TaskFinisher } from '../src/platform/runtime/task-finisher.js';
import {
  createTaskHandlerAround,
  type TaskHandlerSettings,
} from '../src/platform/runtime/worker-handler.js';
import type { TaskStore } from '../src/platform/store/task-store.js';
import { hashApiKey } from '../src/platform/tenants/api-key.js';
import { loadTenants } from '../src/platform/tenants/index.js';
import { STUB_ROUTER } from './stub-router.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A started bench platform; `close` purges its keys, stops it and removes its tenants file. */
export interface AsyncBenchPlatform {
  gatewayUrl: string;
  store: TaskStore;
  close(): Promise<void>;
}

const WORKERS = 50;
const BACKPRESSURE = { maxQueueDepth: 1_000_000, maxOldestAgeMs: 600_000 };
const STUB_HANDLER = fileURLToPath(new URL('./stub-router-handler.ts', import.meta.url));

function workerProcesses(): number {
  return Number(process.env.BENCH_WORKER_PROCESSES ?? 2);
}

/** Writes a tenants file with the bench tenant, whose key is `tenantKey`, in a new folder. */
async function writeBenchTenant(tenantKey: string): Promise<{ dir: string; tenantsPath: string }> {
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
  return { dir, tenantsPath };
}

/**
 * Starts the platform with a bench tenant whose key is `tenantKey`, under a fresh
 * key prefix. BENCH_WORKER_PROCESSES sets the worker processes, default 2.
 */
export async function startAsyncBenchPlatform(tenantKey: string): Promise<AsyncBenchPlatform> {
  const { dir, tenantsPath } = await writeBenchTenant(tenantKey);
  const platform = await startPlatform({
    topology: `workers=${WORKERS} serverless_burst=disabled`,
    workerProcesses: workerProcesses(),
    providerProcess: 'child',
    faultProxy: false,
    redisUrl: REDIS_URL,
    keyPrefix: `bench-gateway-${randomUUID()}`,
    tenantsPath,
    backpressure: BACKPRESSURE,
  });
  const close = async () => {
    try {
      await platform.purge();
      await platform.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  return { gatewayUrl: platform.urls.gateway, store: platform.store, close };
}

/**
 * Starts the parts of the platform that `startPlatform` wires for async tasks, on
 * the same Redis and with the same worker processes, around a router that returns
 * at once. They are the gateway with Redis admission, backpressure and metrics,
 * BullMQ, the queue's failure reconciler, and the worker processes' own task
 * handler with the Redis store, admission and cost ledger. No provider is called.
 */
export async function startStubRouterPlatform(tenantKey: string): Promise<AsyncBenchPlatform> {
  const { dir, tenantsPath } = await writeBenchTenant(tenantKey);
  const keyPrefix = `bench-stub-${randomUUID()}`;
  const clock = systemClock;
  const catalog = await loadProviderCatalog();
  const [policy, tenants, prices] = await Promise.all([
    loadPolicy('policies/default.yaml', catalog),
    loadTenants(tenantsPath),
    loadPriceTable(),
  ]);

  const drivers = createDrivers({ redisUrl: REDIS_URL }, keyPrefix, clock);
  const registry = new Registry();
  const metrics = createPlatformMetrics(registry);
  const onStored = (record: Parameters<typeof recordFinished>[2]) =>
    recordFinished(metrics, drivers.ledger, record, 0);
  const hooks: JobEndHooks = { admission: drivers.admission, onStored };
  reconcileQueueFailures(drivers.queue, drivers.store, clock, hooks);
  const handlerConfig: TaskHandlerSettings = {
    redisUrl: REDIS_URL,
    keyPrefix,
    maxAttempts: drivers.maxAttempts,
  };
  const stopConsumers = await startStubConsumers(drivers, handlerConfig, hooks);

  const finisher = new TaskFinisher({ store: drivers.store, admission: drivers.admission, clock });
  const gateway = await startGateway({
    tenants,
    store: drivers.store,
    admission: new BackendAdmissionGate(drivers.admission, (request, tokens) => {
      const candidates = policy.routes[request.route]?.candidates ?? [];
      return prices.maxTokenCostUsd(candidates, tokens.inputTokens, tokens.outputTokens);
    }),
    backpressure: new QueueBackpressureGate(
      createBackpressure(BACKPRESSURE),
      () => drivers.queue.gauges(),
      clock,
    ),
    executor: new DirectExecutor({ router: STUB_ROUTER, finisher, clock }),
    queue: drivers.queue,
    routes: { names: () => Object.keys(policy.routes) },
    registry,
    onRejection: (tenantId, rejection) => metrics.recordRejection(tenantId, rejection.reason),
  });
  const close = async () => {
    try {
      await gateway.close();
      await stopConsumers();
      await drivers.purge();
      await drivers.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  return { gatewayUrl: gateway.url, store: drivers.store, close };
}

/**
 * Starts the stub-router platform's consumers: BENCH_WORKER_PROCESSES worker
 * processes, or with 0 the same handler in this process, as the platform does.
 * Resolves to their stop.
 */
async function startStubConsumers(
  drivers: PlatformDrivers,
  handlerConfig: TaskHandlerSettings,
  hooks: JobEndHooks,
): Promise<() => Promise<void>> {
  const processes = workerProcesses();
  if (processes === 0) {
    const handler = createTaskHandlerAround(handlerConfig, STUB_ROUTER, () => 0);
    const consumer = drivers.queue.consume(handler, { concurrency: WORKERS });
    return () => consumer.drain();
  }
  const onJobEnded = (event: JobEndedEvent) =>
    storeJobEnd(drivers.store, systemClock, event, hooks);
  const options: WorkerPoolOptions = {
    processes,
    concurrency: Math.ceil(WORKERS / processes),
    queue: {
      driver: 'bullmq',
      redisUrl: REDIS_URL,
      prefix: handlerConfig.keyPrefix,
      name: 'tasks',
      maxAttempts: drivers.maxAttempts,
      backoffBaseMs: drivers.backoffBaseMs,
      backoffMaxMs: drivers.backoffMaxMs,
    },
    handlerModule: STUB_HANDLER,
    handlerConfig,
    logLevel: 'warn',
  };
  // The listener goes on before the first fork: a ready process takes jobs while the others start.
  const pool = await startWorkerPool(options, (starting) => starting.on('jobEnded', onJobEnded));
  return () => pool.stop(5_000);
}

/** Tasks of the platform's store that reached a terminal state. */
export async function endedTasks(platform: AsyncBenchPlatform): Promise<number> {
  return (await endCounts(platform)).ended;
}

/** Terminal tasks of the platform's store, and the failed and dead-lettered among them. */
async function endCounts(platform: AsyncBenchPlatform) {
  const { succeeded, failed, dead_lettered: deadLettered } = await platform.store.accounting();
  return { ended: succeeded + failed + deadLettered, failed, deadLettered };
}

/**
 * Polls until `count` more tasks than `endedBefore` ended. Fails after `limitMs`, and as soon
 * as any task of the platform failed or was dead-lettered, so a round never times a failed
 * task as a finished one.
 */
export async function waitForEnded(
  platform: AsyncBenchPlatform,
  endedBefore: number,
  count: number,
  limitMs = 120_000,
): Promise<void> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const now = await endCounts(platform);
    if (now.failed > 0 || now.deadLettered > 0) {
      throw new Error(
        `the bench platform has ${now.failed} failed and ${now.deadLettered} dead-lettered ` +
          'tasks; a round must time succeeded tasks only, so fix what fails them first',
      );
    }
    const done = now.ended - endedBefore;
    if (done >= count) return;
    if (performance.now() > deadline) {
      throw new Error(`only ${done} of ${count} tasks ended in ${limitMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
