import { Writable } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';

import { loadProviderCatalog } from '../../../src/faults/providers/index.js';
import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import { systemClock } from '../../../src/platform/clock.js';
import { buildGateway } from '../../../src/platform/gateway/app.js';
import { loadPolicy, RouteOutputLimits } from '../../../src/platform/router/index.js';
import type {
  BackpressureGate,
  QueuedTaskData,
  ReadinessCheck,
  RouteCatalog,
  SyncExecutor,
  SyncTaskOwnership,
} from '../../../src/platform/gateway/ports.js';
import { BackendAdmissionGate } from '../../../src/platform/runtime/admission-gate.js';
import { DirectExecutor } from '../../../src/platform/runtime/direct-executor.js';
import type {
  ModelCallInput,
  ModelCallOutput,
  ModelRouterPort,
} from '../../../src/platform/runtime/model-router.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import { hashApiKey } from '../../../src/platform/tenants/api-key.js';
import { TenantRegistry } from '../../../src/platform/tenants/registry.js';
import type { Tenant } from '../../../src/platform/tenants/tenant.js';

export const ALPHA_KEY = 'sk-alpha-test-0123456789';
export const BETA_KEY = 'sk-beta-test-9876543210';

export function testTenant(id: string, key: string, overrides: Partial<Tenant> = {}): Tenant {
  return {
    id,
    keySha256: hashApiKey(key),
    requestsPerMinute: 1_000,
    tokensPerMinute: 10_000_000,
    maxInFlight: 100,
    tier: 'standard',
    budgetUsd: 1_000,
    ...overrides,
  };
}

/** A router that replies from a script: text per call, or an error. */
export class ScriptedRouter implements ModelRouterPort {
  calls: ModelCallInput[] = [];
  behaviour: (input: ModelCallInput) => Promise<ModelCallOutput> = async (input) => {
    input.onToken?.('hello ');
    input.onToken?.('world');
    return completion('hello world');
  };

  call(input: ModelCallInput): Promise<ModelCallOutput> {
    this.calls.push(input);
    return this.behaviour(input);
  }
}

export function completion(text: string, tokenCostUsd = 0.001): ModelCallOutput {
  return {
    tokenCostUsd,
    result: {
      text,
      usage: { inputTokens: 10, outputTokens: 2 },
      provider: 'provider-a',
      model: 'gpt-4o',
      attempts: [{ provider: 'provider-a', model: 'gpt-4o', outcome: 'success', latencyMs: 1 }],
      timeToFirstTokenMs: 1,
    },
  };
}

export interface FakePlatform {
  app: FastifyInstance;
  router: ScriptedRouter;
  store: MemoryTaskStore;
  admission: MemoryAdmissionBackend;
  enqueued: { id: string; data: QueuedTaskData; priority?: number }[];
  logs: string[];
  registry: Registry;
}

export interface FakePlatformOptions {
  tenants?: Tenant[];
  /** Lowest level the captured gateway log keeps. @defaultValue 'info' */
  logLevel?: string;
  bodyLimitBytes?: number;
  executor?: (router: ScriptedRouter, finisher: TaskFinisher) => SyncExecutor;
  readiness?: ReadinessCheck[];
  syncOwners?: SyncTaskOwnership;
  /** @defaultValue no backpressure */
  backpressure?: BackpressureGate;
  /** @defaultValue the gateway's default */
  storeTimeoutMs?: number;
  /** @defaultValue routes `default` and `cheap`, with no output limit */
  routes?: RouteCatalog;
}

/** Builds the gateway over in-memory parts and a scripted router. */
export function fakePlatform(options: FakePlatformOptions = {}): FakePlatform {
  const router = new ScriptedRouter();
  const store = new MemoryTaskStore();
  const admission = new MemoryAdmissionBackend();
  const finisher = new TaskFinisher({ store, admission, clock: systemClock });
  const executor =
    options.executor?.(router, finisher) ??
    new DirectExecutor({ router, finisher, clock: systemClock });
  const enqueued: FakePlatform['enqueued'] = [];
  const logs: string[] = [];
  const registry = new Registry();
  const tenants = options.tenants ?? [
    testTenant('tenant-alpha', ALPHA_KEY),
    testTenant('tenant-beta', BETA_KEY),
  ];
  const app = buildGateway({
    tenants: new TenantRegistry(tenants),
    store,
    admission: new BackendAdmissionGate(admission, () => 0.01),
    executor,
    queue: {
      enqueue: async (id, data, enqueueOptions) => {
        enqueued.push({ id, data, priority: enqueueOptions?.priority });
        return { id, duplicate: false };
      },
    },
    routes: options.routes ?? { names: () => ['default', 'cheap'] },
    readiness: options.readiness,
    registry,
    logger: pino({ level: options.logLevel ?? 'info' }, captureStream(logs)),
    bodyLimitBytes: options.bodyLimitBytes,
    syncOwners: options.syncOwners,
    backpressure: options.backpressure,
    storeTimeoutMs: options.storeTimeoutMs,
  });
  return { app, router, store, admission, enqueued, logs, registry };
}

function captureStream(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/**
 * Builds a fake platform with the routes, output limits and context windows of
 * `policies/default.yaml` and the shipped provider profiles. Route `summarize` calls
 * gpt-4o-mini (window 128,000, output limit 16,384), claude-haiku (200,000 and 8,192) and
 * llama-70b (131,072 and 8,192).
 */
export async function defaultPolicyPlatform(): Promise<FakePlatform> {
  const catalog = await loadProviderCatalog();
  const policy = await loadPolicy('policies/default.yaml', catalog);
  const limits = new RouteOutputLimits(policy, catalog);
  return fakePlatform({
    routes: {
      names: () => Object.keys(policy.routes),
      maxOutputTokens: (route) => limits.largestLimit(route),
      maxInputTokens: (route, maxOutputTokens) => limits.maxInputTokens(route, maxOutputTokens),
    },
  });
}

/** Sends `body` to `POST /v1/tasks` as tenant-alpha. */
export function submitTask(platform: FakePlatform, body: Record<string, unknown>) {
  return platform.app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: bearer(ALPHA_KEY),
    payload: body,
  });
}

export const SYNC_TASK = { route: 'default', maxOutputTokens: 32, mode: 'sync' } as const;
export const ASYNC_TASK = { route: 'default', maxOutputTokens: 32, mode: 'async' } as const;

/**
 * Owner record that keeps each hold, drop and forget in order, as `hold <id>`, `drop <id>`
 * and `forget <id>`.
 */
export class RecordingOwners implements SyncTaskOwnership {
  readonly events: string[] = [];

  async hold(_tenantId: string, taskId: string): Promise<void> {
    this.events.push(`hold ${taskId}`);
  }

  async drop(taskId: string): Promise<void> {
    this.events.push(`drop ${taskId}`);
  }

  forget(taskId: string): void {
    this.events.push(`forget ${taskId}`);
  }
}
