/**
 * One server process of the gateway bench, started by bench/gateway.ts over an
 * IPC channel. `mock` serves the instant mock provider. `gateway <mockUrl>`
 * serves two gateways: one whose router calls that mock, one with a router
 * stub that returns at once. Each server binds 127.0.0.1 on a free port.
 *
 * Messages from the parent: `cpu` (reply: this process's CPU microseconds so
 * far) and `close`. The process also stops when the parent goes away.
 */
import { loadProviderCatalog, startMockProvider } from '../src/faults/providers/index.js';
import { MemoryAdmissionBackend } from '../src/platform/admission/memory-backend.js';
import { systemClock } from '../src/platform/clock.js';
import { loadPriceTable } from '../src/platform/cost/load-price-table.js';
import { startGateway } from '../src/platform/gateway/server.js';
import { createRouter, loadPolicy } from '../src/platform/router/index.js';
import { BackendAdmissionGate } from '../src/platform/runtime/admission-gate.js';
import { DirectExecutor } from '../src/platform/runtime/direct-executor.js';
import type { ModelRouterPort } from '../src/platform/runtime/model-router.js';
import { RouterModelPort } from '../src/platform/runtime/router-port.js';
import { TaskFinisher } from '../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore } from '../src/platform/store/memory.js';
import { hashApiKey } from '../src/platform/tenants/api-key.js';
import { TenantRegistry } from '../src/platform/tenants/index.js';
import { STUB_ROUTER } from './stub-router.js';

/** Message a child sends once its servers listen. */
export interface ChildReady {
  type: 'ready';
  urls: Record<string, string>;
}

/** Reply to `cpu`: user plus system CPU time of the child, in microseconds. */
export interface ChildCpu {
  type: 'cpu';
  micros: number;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

async function instantProfile() {
  const catalog = await loadProviderCatalog();
  const instant = catalog.find((profile) => profile.name === 'instant');
  if (instant === undefined) throw new Error('fixtures/providers has no instant profile');
  return { catalog, instant };
}

async function startMock() {
  const { instant } = await instantProfile();
  const mock = await startMockProvider({ profile: instant, host: '127.0.0.1', port: 0 });
  return { urls: { mock: mock.url }, close: () => mock.close() };
}

/** Same in-process wiring as the embedded platform: memory store and admission, direct executor. */
async function benchGateway(router: ModelRouterPort, routes: string[]) {
  const store = new MemoryTaskStore();
  const admission = new MemoryAdmissionBackend();
  const finisher = new TaskFinisher({ store, admission, clock: systemClock });
  const tenant = {
    id: 'tenant-bench',
    keySha256: hashApiKey(requiredEnv('BENCH_TENANT_KEY')),
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

async function startGateways(mockUrl: string) {
  const { catalog } = await instantProfile();
  const policy = await loadPolicy('policies/default.yaml', catalog);
  // Only the bench route's instant provider is called; the other routes' providers share its URL.
  const endpoint = { baseUrl: mockUrl, apiKey: requiredEnv('BENCH_PROVIDER_KEY') };
  const endpoints = Object.fromEntries(catalog.map((profile) => [profile.name, endpoint]));
  const router = createRouter({ policy, catalog, endpoints, connectionsPerProvider: 64 });
  const routes = Object.keys(policy.routes);
  const gateway = await benchGateway(new RouterModelPort(router, await loadPriceTable()), routes);
  const stub = await benchGateway(STUB_ROUTER, routes);
  const close = async () => {
    await gateway.close();
    await stub.close();
    await router.close();
  };
  return { urls: { gateway: gateway.url, stub: stub.url }, close };
}

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

async function main(): Promise<void> {
  const [role, mockUrl] = process.argv.slice(2);
  if (role !== 'mock' && (role !== 'gateway' || mockUrl === undefined)) {
    throw new Error('usage: gateway-child.ts mock | gateway <mockUrl>');
  }
  const servers = mockUrl === undefined ? await startMock() : await startGateways(mockUrl);
  let closing: Promise<void> | undefined;
  const stop = () => {
    closing ??= servers.close().finally(() => {
      if (process.connected) process.disconnect();
    });
    return closing;
  };
  process.on('message', (message) => {
    if (message === 'cpu') process.send?.({ type: 'cpu', micros: cpuMicros() } satisfies ChildCpu);
    if (message === 'close') void stop();
  });
  process.once('disconnect', () => void stop());
  process.send?.({ type: 'ready', urls: servers.urls } satisfies ChildReady);
}

await main();
