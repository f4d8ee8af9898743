import assert from 'node:assert/strict';
import {
  loadProviderCatalog,
  type ProviderProfile,
} from '../../../src/faults/providers/profile.js';
import { type MockProvider, startMockProvider } from '../../../src/faults/providers/index.js';
import {
  createRouter,
  isRouterError,
  parsePolicy,
  type Router,
} from '../../../src/platform/router/index.js';
import { REQUEST, rejectionOf, route } from './router-fixtures.js';

/** Zero-latency copy of a shipped profile, so failover runs take milliseconds. */
function fast(profile: ProviderProfile): ProviderProfile {
  const models = profile.models.map((model) => ({
    ...model,
    ttftMs: { median: 1, p95: 2 },
    outputTokensPerSecond: { mean: 100_000, stddev: 0 },
  }));
  return { ...profile, models, faults: undefined };
}

describe('Router with the mock provider', () => {
  let mocks: MockProvider[] = [];
  let router: Router | undefined;

  async function setup(
    primaryName: string,
    fallbackName: string,
    failoverOn = route().failoverOn,
  ): Promise<[MockProvider, MockProvider]> {
    const catalog = (await loadProviderCatalog()).map(fast);
    const byName = (name: string): ProviderProfile =>
      catalog.find((p) => p.name === name) ?? assert.fail(name);
    const primary = await startMockProvider({ profile: byName(primaryName) });
    const fallback = await startMockProvider({ profile: byName(fallbackName) });
    mocks = [primary, fallback];
    const modelOf = (name: string): string => byName(name).models[0]?.name ?? '';
    const candidates = [
      { provider: primaryName, model: modelOf(primaryName), weight: 1 },
      { provider: fallbackName, model: modelOf(fallbackName), weight: 0 },
    ];
    const policy = parsePolicy(
      { version: 1, routes: { chat: route({ candidates, failoverOn, qualityFloor: 3 }) } },
      catalog,
    );
    const endpoints = {
      [primaryName]: { baseUrl: primary.url, apiKey: 'k1' },
      [fallbackName]: { baseUrl: fallback.url, apiKey: 'k2' },
    };
    router = createRouter({ policy, catalog, endpoints });
    return [primary, fallback];
  }

  function countRequests(mock: MockProvider): { count: number } {
    const counter = { count: 0 };
    mock.on('request', () => {
      counter.count += 1;
    });
    return counter;
  }

  afterEach(async () => {
    await router?.close();
    await Promise.all(mocks.map((mock) => mock.close()));
    router = undefined;
    mocks = [];
  });

  it('serves a task cut after 40 of 60 tokens from the fallback', async () => {
    const [primary] = await setup('provider-a', 'provider-b');
    primary.setFaults({ streamCutAfterTokens: 40 });
    const result = await router?.execute('chat', REQUEST);
    assert.equal(result?.provider, 'provider-b');
    assert.equal(result?.usage.outputTokens, 60);
    assert.equal(result?.attempts[0]?.errorClass, 'stream_truncated');
  });

  it('fails over on an overloaded_error event', async () => {
    const [primary] = await setup('provider-b', 'provider-a');
    primary.setFaults({ streamErrorAfterTokens: 0 });
    const result = await router?.execute('chat', REQUEST);
    assert.equal(result?.provider, 'provider-a');
    assert.equal(result?.attempts[0]?.errorClass, 'stream_error_event');
  });

  it('returns upstream_auth_failed for an unlisted 401', async () => {
    const [primary, fallback] = await setup('provider-a', 'provider-b');
    primary.setFaults({ errorRate: 1, errorStatus: 401 });
    const fallbackCalls = countRequests(fallback);
    const error = await rejectionOf(router?.execute('chat', REQUEST) ?? Promise.resolve());
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'upstream_auth_failed');
    assert.equal(fallbackCalls.count, 0);
  });

  it('calls the fallback at once on 429 with Retry-After 47', async () => {
    const [primary] = await setup('provider-a', 'provider-b');
    primary.setFaults({ errorRate: 1, errorStatus: 429, retryAfterSeconds: 47 });
    const started = performance.now();
    const result = await router?.execute('chat', REQUEST);
    assert.equal(result?.provider, 'provider-b');
    assert.ok(performance.now() - started < 1000);
  });
});
