import assert from 'node:assert/strict';
import {
  loadProviderCatalog,
  type ProviderProfile,
} from '../../../src/faults/providers/profile.js';
import { type MockProvider, startMockProvider } from '../../../src/faults/providers/index.js';
import {
  type BreakerTransition,
  type Candidate,
  createRouter,
  isRouterError,
  parsePolicy,
  type RoutePolicy,
  type Router,
} from '../../../src/platform/router/index.js';
import { createTestClock, type TestClock } from '../providers/test-clock.js';
import { REQUEST, rejectionOf, route } from './router-fixtures.js';

/** Zero-latency copy of a shipped profile, so only the injected faults take time. */
function fast(profile: ProviderProfile): ProviderProfile {
  const models = profile.models.map((model) => ({
    ...model,
    ttftMs: { median: 1, p95: 2 },
    outputTokensPerSecond: { mean: 100_000, stddev: 0 },
  }));
  return { ...profile, models, faults: undefined };
}

/**
 * The router's timeout and breaker hard cases against the mock provider the drills use.
 * Router, provider clients and mocks share one fake clock, so the 2 s, 8 s and 10 s waits
 * take milliseconds of wall time.
 */
describe('Router hard cases with the mock provider', () => {
  let clock: TestClock;
  let mocks: MockProvider[] = [];
  let router: Router | undefined;

  /** Starts provider-a as primary and provider-b as fallback, both on `clock`. */
  async function setup(overrides: Partial<RoutePolicy>, single = false): Promise<MockProvider> {
    const catalog = (await loadProviderCatalog()).map(fast);
    const byName = (name: string): ProviderProfile =>
      catalog.find((profile) => profile.name === name) ?? assert.fail(name);
    const primary = await startMockProvider({ profile: byName('provider-a'), clock });
    const fallback = await startMockProvider({ profile: byName('provider-b'), clock });
    mocks = [primary, fallback];
    const candidates: Candidate[] = [
      { provider: 'provider-a', model: 'gpt-4o', weight: 1 },
      { provider: 'provider-b', model: 'claude-sonnet', weight: 0 },
    ];
    const chat = route({
      candidates: single ? candidates.slice(0, 1) : candidates,
      qualityFloor: 3,
      ...overrides,
    });
    const policy = parsePolicy({ version: 1, routes: { chat } }, catalog);
    const endpoints = {
      'provider-a': { baseUrl: primary.url, apiKey: 'key-a' },
      'provider-b': { baseUrl: fallback.url, apiKey: 'key-b' },
    };
    router = createRouter({ policy, catalog, endpoints, clock });
    return primary;
  }

  function countRequests(mock: MockProvider): { count: number } {
    const counter = { count: 0 };
    mock.on('request', () => {
      counter.count += 1;
    });
    return counter;
  }

  function activeRouter(): Router {
    return router ?? assert.fail('setup() did not run');
  }

  beforeEach(() => {
    clock = createTestClock();
  });

  afterEach(async () => {
    await router?.close();
    await Promise.all(mocks.map((mock) => mock.close()));
    router = undefined;
    mocks = [];
  });

  it('abandons a first token due at 10 s after 2 s', async () => {
    const primary = await setup({ firstTokenTimeoutMs: 2000, deadlineMs: 30_000 });
    primary.setFaults({ firstTokenDelayMs: 10_000 });
    const started = clock.monotonic();
    const result = await clock.drive(activeRouter().execute('chat', REQUEST));
    const elapsed = clock.monotonic() - started;
    assert.equal(result.provider, 'provider-b');
    assert.equal(result.attempts[0]?.provider, 'provider-a');
    assert.equal(result.attempts[0]?.errorClass, 'first_token_timeout');
    assert.equal(result.attempts[0]?.latencyMs, 2000);
    assert.ok(elapsed >= 2000, `elapsed ${elapsed} ms`);
    assert.ok(elapsed < 2600, `elapsed ${elapsed} ms`);
  });

  it('ends a task on a hung provider at its 8 s deadline', async () => {
    // The first attempt times out at 6 s and the retry hangs until the deadline ends the task.
    const primary = await setup({ firstTokenTimeoutMs: 6000, deadlineMs: 8000 }, true);
    primary.setFaults({ hangBeforeHeaders: true });
    const started = clock.monotonic();
    const error = await clock.drive(rejectionOf(activeRouter().execute('chat', REQUEST)));
    const elapsed = clock.monotonic() - started;
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'deadline_exceeded');
    assert.equal(error.httpStatus, 504);
    assert.ok(elapsed >= 8000, `elapsed ${elapsed} ms`);
    assert.ok(elapsed < 8500, `elapsed ${elapsed} ms`);
  });

  it('stops calling a 500 provider once its breaker opens', async () => {
    const breaker = {
      failureThreshold: 3,
      minimumRequests: 5,
      windowMs: 60_000,
      cooldownMs: 10_000,
      halfOpenMaxProbes: 1,
    };
    const retryBudget = { windowMs: 60_000, maxRetriesPerWindow: 0, maxAttemptsPerTask: 1 };
    const primary = await setup({ breaker, retryBudget }, true);
    primary.setFaults({ errorRate: 1, errorStatus: 500 });
    const calls = countRequests(primary);
    const transitions: string[] = [];
    activeRouter().on('breaker_transition', (event: BreakerTransition) =>
      transitions.push(`${event.from}->${event.to.kind}`),
    );

    const codes: string[] = [];
    for (let task = 0; task < 8; task += 1) {
      const error = await rejectionOf(activeRouter().execute('chat', REQUEST));
      codes.push(isRouterError(error) ? error.code : 'other');
    }
    assert.equal(calls.count, 5);
    assert.deepEqual(codes, [
      'upstream_error',
      'upstream_error',
      'upstream_error',
      'upstream_error',
      'upstream_error',
      'provider_unavailable',
      'provider_unavailable',
      'provider_unavailable',
    ]);

    await clock.drive(clock.sleep(9_000));
    await rejectionOf(activeRouter().execute('chat', REQUEST));
    assert.equal(calls.count, 5);

    await clock.drive(clock.sleep(1_000));
    await rejectionOf(activeRouter().execute('chat', REQUEST));
    await rejectionOf(activeRouter().execute('chat', REQUEST));
    assert.equal(calls.count, 6);
    assert.deepEqual(transitions, ['closed->open', 'open->half_open', 'half_open->open']);
  });
});
