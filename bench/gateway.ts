/**
 * Gateway overhead and throughput, measured side by side in one run:
 * 1. sync: client -> gateway -> router (direct executor) -> mock provider
 *    (instant profile), against client -> mock provider, at 500 requests/s
 *    open-loop (added p50) and closed-loop at 32 in flight (max requests/s).
 *    A gateway whose router stub returns at once shows the gateway's own share;
 * 2. async: tasks through gateway, BullMQ and in-process workers until every
 *    task is terminal, against raw BullMQ with no-op jobs (bench/queue.ts).
 * Everything runs in this one process on 127.0.0.1, so client, gateway and
 * mock provider share a core.
 *
 * Run: npx tsx bench/gateway.ts [asyncTasks=2000] [async]
 * (`async` skips the sync half; BENCH_WORKER_PROCESSES sets the worker processes, default 2)
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { Pool } from 'undici';

import { loadProviderCatalog, startMockProvider } from '../src/faults/providers/index.js';
import { MemoryAdmissionBackend } from '../src/platform/admission/memory-backend.js';
import { systemClock } from '../src/platform/clock.js';
import { loadPriceTable } from '../src/platform/cost/load-price-table.js';
import { startGateway } from '../src/platform/gateway/server.js';
import { createRouter, loadPolicy } from '../src/platform/router/index.js';
import { type Platform, startPlatform } from '../src/platform/runtime.js';
import { BackendAdmissionGate } from '../src/platform/runtime/admission-gate.js';
import { DirectExecutor } from '../src/platform/runtime/direct-executor.js';
import type { ModelRouterPort } from '../src/platform/runtime/model-router.js';
import { RouterModelPort } from '../src/platform/runtime/router-port.js';
import { TaskFinisher } from '../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore } from '../src/platform/store/memory.js';
import { hashApiKey } from '../src/platform/tenants/api-key.js';
import { TenantRegistry } from '../src/platform/tenants/index.js';
import { measureRawBullmqThroughput } from './queue.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const TENANT_KEY = `sk-bench-${randomUUID()}`;
const PROVIDER_KEY = `sk-mock-${randomUUID()}`;

interface Target {
  name: string;
  pool: Pool;
  path: string;
  headers: Record<string, string>;
  body: string;
}

async function send(target: Target): Promise<number> {
  const response = await target.pool.request({
    method: 'POST',
    path: target.path,
    headers: target.headers,
    body: target.body,
  });
  await response.body.dump();
  return response.statusCode;
}

/** Open-loop: sends at `rate` per second for `count` requests; latency from the scheduled time. */
async function openLoop(target: Target, rate: number, count: number): Promise<number[]> {
  const latencies: number[] = [];
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let index = 0; index < count; index += 1) {
    const due = start + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      send(target).then((status) => {
        if (status !== 200) throw new Error(`${target.name} returned status ${status}`);
        latencies.push(performance.now() - due);
      }),
    );
  }
  await Promise.all(pending);
  return latencies;
}

/** Closed-loop: `inFlight` senders for `seconds`; returns completed requests per second. */
async function closedLoop(target: Target, inFlight: number, seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let completed = 0;
  const sender = async () => {
    while (performance.now() < end) {
      const status = await send(target);
      if (status !== 200) throw new Error(`${target.name} returned status ${status}`);
      completed += 1;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, sender));
  return completed / ((performance.now() - start) / 1000);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function startSyncStack() {
  const catalog = await loadProviderCatalog();
  const instant = catalog.find((profile) => profile.name === 'instant');
  if (instant === undefined) throw new Error('fixtures/providers has no instant profile');
  const mock = await startMockProvider({ profile: instant, host: '127.0.0.1', port: 0 });
  const policy = await loadPolicy('policies/default.yaml', catalog);
  // Only the bench route's instant provider is called; the other routes' providers share its URL.
  const endpoint = { baseUrl: mock.url, apiKey: PROVIDER_KEY };
  const endpoints = Object.fromEntries(catalog.map((profile) => [profile.name, endpoint]));
  const router = createRouter({ policy, catalog, endpoints, connectionsPerProvider: 64 });
  const routes = Object.keys(policy.routes);
  const gateway = await benchGateway(new RouterModelPort(router, await loadPriceTable()), routes);
  const stubGateway = await benchGateway(STUB_ROUTER, routes);
  const close = async () => {
    await gateway.close();
    await stubGateway.close();
    await router.close();
    await mock.close();
  };
  return { mockUrl: mock.url, gatewayUrl: gateway.url, stubGatewayUrl: stubGateway.url, close };
}

/** A router that returns at once, to separate the gateway's own cost from the provider call. */
const STUB_ROUTER: ModelRouterPort = {
  call: async () => ({
    tokenCostUsd: 0,
    result: {
      text: 'stub',
      usage: { inputTokens: 7, outputTokens: 8 },
      provider: 'instant',
      model: 'instant',
      attempts: [],
      timeToFirstTokenMs: 0,
    },
  }),
};

async function benchGateway(router: ModelRouterPort, routes: string[]) {
  const store = new MemoryTaskStore();
  const admission = new MemoryAdmissionBackend();
  const finisher = new TaskFinisher({ store, admission, clock: systemClock });
  const tenant = {
    id: 'tenant-bench',
    keySha256: hashApiKey(TENANT_KEY),
    requestsPerMinute: 10_000_000,
    tokensPerMinute: 1_000_000_000,
    maxInFlight: 100_000,
    tier: 'standard' as const,
    budgetUsd: 1_000_000,
  };
  return startGateway({
    tenants: new TenantRegistry([tenant]),
    store,
    admission: new BackendAdmissionGate(admission, () => 0),
    executor: new DirectExecutor({ router, finisher, clock: systemClock }),
    queue: { enqueue: async (id) => ({ id, duplicate: false }) },
    routes: { names: () => routes },
  });
}

function gatewayTarget(name: string, url: string): Target {
  return {
    name,
    pool: new Pool(url, { connections: 64 }),
    path: '/v1/tasks',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TENANT_KEY}` },
    body: JSON.stringify({ route: 'bench', maxOutputTokens: 8, mode: 'sync' }),
  };
}

function directTarget(mockUrl: string): Target {
  return {
    name: 'mock direct',
    pool: new Pool(mockUrl, { connections: 64 }),
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${PROVIDER_KEY}` },
    body: JSON.stringify({
      model: 'instant',
      messages: [{ role: 'user', content: 'Synthetic load-test prompt.' }],
      max_tokens: 8,
    }),
  };
}

async function benchSync(): Promise<void> {
  const stack = await startSyncStack();
  const targets = [
    directTarget(stack.mockUrl),
    gatewayTarget('gateway, stub router', stack.stubGatewayUrl),
    gatewayTarget('gateway, router, mock', stack.gatewayUrl),
  ];
  try {
    const p50s = targets.map(() => [] as number[]);
    for (const target of targets) await openLoop(target, 500, 500);
    for (let round = 0; round < 3; round += 1) {
      for (const [index, target] of targets.entries()) {
        p50s[index]?.push(median(await openLoop(target, 500, 1_500)));
      }
    }
    const rates: number[] = [];
    for (const target of targets) rates.push(await closedLoop(target, 32, 3));
    const direct = median(p50s[0] ?? []);
    for (const [index, target] of targets.entries()) {
      const p50 = median(p50s[index] ?? []);
      const added = index === 0 ? '' : `, added ${(p50 - direct).toFixed(3)} ms`;
      const rate = (rates[index] ?? 0).toFixed(0);
      console.log(
        `[sync] ${target.name}: p50 at 500 req/s ${p50.toFixed(3)} ms${added}; max ${rate} req/s at 32 in flight`,
      );
    }
    console.log('[sync] targets: added p50 <= 1 ms, max >= 3000 req/s');
  } finally {
    await Promise.all(targets.map((target) => target.pool.close()));
    await stack.close();
  }
}

/** Writes a tenants file with one unlimited bench tenant whose key is TENANT_KEY. */
async function writeBenchTenants(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scalegate-bench-'));
  const path = join(dir, 'tenants.yaml');
  const tenant = [
    '  - id: tenant-bench',
    `    keySha256: ${hashApiKey(TENANT_KEY)}`,
    '    tier: standard',
    '    requestsPerMinute: 10000000',
    '    tokensPerMinute: 1000000000',
    '    maxInFlight: 1000000',
    '    budgetUsd: 1000000',
  ];
  await writeFile(path, ['tenants:', ...tenant, ''].join('\n'));
  return path;
}

async function asyncTasksPerSecond(platform: Platform, tasks: number): Promise<number> {
  const target = gatewayTarget('gateway async', platform.urls.gateway);
  target.body = JSON.stringify({ route: 'bench', maxOutputTokens: 8, mode: 'async' });
  const start = performance.now();
  for (let first = 0; first < tasks; first += 200) {
    const count = Math.min(200, tasks - first);
    const statuses = await Promise.all(Array.from({ length: count }, () => send(target)));
    const rejected = statuses.filter((status) => status !== 202);
    if (rejected.length > 0)
      throw new Error(
        `gateway rejected ${rejected.length} tasks, first with status ${rejected[0]}`,
      );
  }
  const submitSeconds = (performance.now() - start) / 1000;
  console.log(`[async] submitted ${tasks} tasks in ${submitSeconds.toFixed(2)} s`);
  const deadline = start + 120_000;
  for (;;) {
    const counts = await platform.store.accounting();
    const done = counts.succeeded + counts.failed + counts.dead_lettered;
    if (done >= tasks) break;
    if (performance.now() > deadline)
      throw new Error(`only ${done} of ${tasks} tasks ended in 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await target.pool.close();
  return tasks / ((performance.now() - start) / 1000);
}

async function benchAsync(tasks: number): Promise<void> {
  const raw = await measureRawBullmqThroughput({
    redisUrl: REDIS_URL,
    jobs: tasks,
    concurrency: 50,
  });
  const tenantsPath = await writeBenchTenants();
  const platform = await startPlatform({
    topology: 'workers=50 serverless_burst=disabled',
    workerProcesses: Number(process.env.BENCH_WORKER_PROCESSES ?? 2),
    redisUrl: REDIS_URL,
    keyPrefix: `bench-gateway-${randomUUID()}`,
    tenantsPath,
    backpressure: { maxQueueDepth: 1_000_000, maxOldestAgeMs: 600_000 },
  });
  try {
    const gateway = await asyncTasksPerSecond(platform, tasks);
    const ratio = (100 * gateway) / raw.jobsPerSecond;
    console.log(
      `[async] ${tasks} tasks: raw BullMQ no-op ${raw.jobsPerSecond.toFixed(0)} jobs/s, gateway+BullMQ+workers ${gateway.toFixed(0)} tasks/s, ratio ${ratio.toFixed(1)}% (target >= 25%)`,
    );
  } finally {
    await platform.purge();
    await platform.stop();
    await rm(dirname(tenantsPath), { recursive: true, force: true });
  }
}

const asyncTasks = Number(process.argv[2] ?? 2000);
if (process.argv[3] !== 'async') await benchSync();
await benchAsync(asyncTasks);
