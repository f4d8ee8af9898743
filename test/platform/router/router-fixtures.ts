import type { Clock } from '../../../src/platform/clock.js';
import {
  createRouter,
  type Policy,
  type RoutePolicy,
  type Router,
} from '../../../src/platform/router/index.js';
import type { ProviderCatalog } from '../../../src/platform/router/catalog.js';
import type { TaskRequest } from '../../../src/platform/task.js';
import {
  type FakeProvider,
  type FakeReply,
  startFakeProvider,
} from '../providers/fake-provider.js';

/** Catalog of the providers the router tests start. */
export const CATALOG: ProviderCatalog = [
  {
    name: 'oa',
    format: 'openai',
    models: [{ name: 'm1', qualityTier: 3, maxOutputTokens: 16384 }],
  },
  {
    name: 'an',
    format: 'anthropic',
    models: [{ name: 'm2', qualityTier: 3, maxOutputTokens: 8192 }],
  },
  {
    name: 'low',
    format: 'openai',
    models: [{ name: 'tiny', qualityTier: 1, maxOutputTokens: 4096 }],
  },
];

export const REQUEST: TaskRequest = {
  route: 'chat',
  maxOutputTokens: 64,
  mode: 'sync',
  priority: 'standard',
  forcedOutputTokens: 60,
};

/** Builds a route from `oa/m1` (weight 1) to `an/m2` (weight 0) with lenient limits. */
export function route(overrides: Partial<RoutePolicy> = {}): RoutePolicy {
  return {
    candidates: [
      { provider: 'oa', model: 'm1', weight: 1 },
      { provider: 'an', model: 'm2', weight: 0 },
    ],
    qualityFloor: 2,
    firstTokenTimeoutMs: 2000,
    deadlineMs: 8000,
    stallTimeoutMs: 5000,
    retryBudget: { windowMs: 10_000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 3 },
    retryBackoffMs: 0,
    failoverOn: [
      'status_429',
      'status_5xx',
      'status_529',
      'first_token_timeout',
      'stream_error_event',
      'stream_truncated',
      'stream_stalled',
      'connection_error',
    ],
    breaker: {
      failureThreshold: 100,
      minimumRequests: 100,
      windowMs: 10_000,
      cooldownMs: 10_000,
      halfOpenMaxProbes: 1,
    },
    onExhausted: 'fail',
    ...overrides,
  };
}

type Script = (index: number) => FakeReply;

/** Fake providers plus a router over them; `close` stops all of it. */
export interface Rig {
  router: Router;
  servers: Record<string, FakeProvider>;
  close(): Promise<void>;
}

/**
 * Starts one fake server per scripted provider and a router whose policy has route `chat`.
 * `options.catalog` replaces CATALOG for the router and must list the same providers.
 */
export async function startRig(
  scripts: Partial<Record<'oa' | 'an' | 'low', Script>>,
  policy: Policy | RoutePolicy,
  options: { clock?: Clock; random?: () => number; catalog?: ProviderCatalog } = {},
): Promise<Rig> {
  const { catalog = CATALOG, ...routerOptions } = options;
  const fullPolicy: Policy = 'routes' in policy ? policy : { version: 1, routes: { chat: policy } };
  const servers: Record<string, FakeProvider> = {};
  for (const provider of CATALOG) {
    const script =
      scripts[provider.name as 'oa' | 'an' | 'low'] ??
      (() => ({ kind: 'stream', tokens: 3 }) as const);
    servers[provider.name] = await startFakeProvider(
      provider.format,
      (index) => script(index),
      options.clock,
    );
  }
  const endpoints = Object.fromEntries(
    Object.entries(servers).map(([name, server]) => [
      name,
      { baseUrl: server.url, apiKey: `key-${name}` },
    ]),
  );
  const router = createRouter({ policy: fullPolicy, catalog, endpoints, ...routerOptions });
  return {
    router,
    servers,
    close: async () => {
      await router.close();
      await Promise.all(Object.values(servers).map((server) => server.close()));
    },
  };
}

/** Returns the rejection of `promise`, failing the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
