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
  type Policy,
  type ProviderCatalog,
  RouteOutputLimits,
  type Router,
  type RouterError,
  type RouterStreamEvent,
} from '../../../src/platform/router/index.js';
import { CATALOG, REQUEST, type Rig, rejectionOf, route, startRig } from './router-fixtures.js';

/**
 * CATALOG with context windows: `oa/m1` 128,000 tokens (output limit 16,384), `an/m2`
 * 200,000 (8,192) and `low/tiny` 8,192 (4,096).
 */
const WINDOWS: Record<string, number> = { m1: 128_000, m2: 200_000, tiny: 8192 };
const WINDOWED: ProviderCatalog = CATALOG.map((provider) => ({
  ...provider,
  models: provider.models.map((model) => ({
    ...model,
    contextWindowTokens: WINDOWS[model.name],
  })),
}));

/** `oa/m1` first with weight 1, then `an/m2` with weight 0. */
const OA_FIRST = route();

describe('Router context windows', () => {
  let rig: Rig | undefined;

  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('skips a small window and serves from a larger one', async () => {
    rig = await startRig({}, OA_FIRST, { catalog: WINDOWED });
    const skips: unknown[] = [];
    rig.router.on('attempt_skipped', (event) => skips.push(event));
    const result = await rig.router.execute('chat', { ...REQUEST, inputTokens: 150_000 });
    assert.equal(result.provider, 'an');
    assert.deepEqual(
      result.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.errorClass]),
      [
        ['oa', 'skipped', 'context_length_exceeded'],
        ['an', 'success', undefined],
      ],
    );
    assert.deepEqual(skips, [
      { route: 'chat', provider: 'oa', model: 'm1', reason: 'context_length_exceeded' },
    ]);
    assert.equal(rig.servers.oa?.requests.length, 0);
    assert.equal(rig.servers.an?.requests[0]?.headers['x-scalegate-input-tokens'], '150000');
  });

  it('calls a model whose window equals input plus output', async () => {
    rig = await startRig({}, OA_FIRST, { catalog: WINDOWED });
    const request = { ...REQUEST, inputTokens: 128_000 - REQUEST.maxOutputTokens };
    const result = await rig.router.execute('chat', request);
    assert.equal(result.provider, 'oa');
    assert.deepEqual(
      result.attempts.map((attempt) => attempt.outcome),
      ['success'],
    );
  });

  it('estimates the input of messages', async () => {
    rig = await startRig({}, OA_FIRST, { catalog: WINDOWED });
    // 520,000 characters are 130,000 tokens, above the 128,000 window of oa/m1.
    const messages = [{ role: 'user' as const, content: 'x'.repeat(520_000) }];
    const result = await rig.router.execute('chat', { ...REQUEST, messages });
    assert.equal(result.provider, 'an');
    assert.equal(rig.servers.oa?.requests.length, 0);
  });

  it('fails with 400 when every window is too small', async () => {
    rig = await startRig({}, OA_FIRST, { catalog: WINDOWED });
    const request = { ...REQUEST, inputTokens: 199_999 };
    const error = await rejectionOf(rig.router.execute('chat', request));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(error.httpStatus, 400);
    assert.equal(
      error.message,
      'input of 199999 tokens plus maxOutputTokens 64 is above the context window of every ' +
        'candidate of route "chat" that accepts that maxOutputTokens, the largest being ' +
        '200000; send at most 199936 input tokens, or lower maxOutputTokens',
    );
    assert.deepEqual(
      error.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.errorClass]),
      [
        ['oa', 'skipped', 'context_length_exceeded'],
        ['an', 'skipped', 'context_length_exceeded'],
      ],
    );
    assert.equal(rig.servers.oa?.requests.length, 0);
    assert.equal(rig.servers.an?.requests.length, 0);
  });

  it('counts only windows of models that accept maxOutputTokens', async () => {
    // an/m2 has the larger window but takes at most 8,192 output tokens.
    rig = await startRig({}, OA_FIRST, { catalog: WINDOWED });
    const request = { ...REQUEST, maxOutputTokens: 10_000, inputTokens: 120_000 };
    const error = await rejectionOf(rig.router.execute('chat', request));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'context_length_exceeded');
    assert.match(error.message, /the largest being 128000; send at most 118000 input tokens/);
  });

  it('ends a stream with the 400 when every window is too small', async () => {
    rig = await startRig({}, OA_FIRST, { catalog: WINDOWED });
    const events: RouterStreamEvent[] = [];
    const request = { ...REQUEST, inputTokens: 300_000 };
    for await (const event of rig.router.stream('chat', request)) {
      events.push(event);
    }
    assert.equal(events.length, 1);
    const error = events[0]?.type === 'error' ? events[0].error : undefined;
    assert.equal((error as RouterError | undefined)?.code, 'context_length_exceeded');
  });

  it('fails over only to a model with room for the task', async () => {
    const threeCandidates = route({
      candidates: [
        { provider: 'an', model: 'm2', weight: 1 },
        { provider: 'low', model: 'tiny', weight: 0 },
        { provider: 'oa', model: 'm1', weight: 0 },
      ],
      qualityFloor: 1,
    });
    rig = await startRig({ an: () => ({ kind: 'status', status: 503 }) }, threeCandidates, {
      catalog: WINDOWED,
    });
    const result = await rig.router.execute('chat', { ...REQUEST, inputTokens: 10_000 });
    assert.equal(result.provider, 'oa');
    assert.deepEqual(
      result.attempts.map((attempt) => [attempt.provider, attempt.outcome]),
      [
        ['low', 'skipped'],
        ['an', 'failed'],
        ['oa', 'success'],
      ],
    );
    assert.equal(rig.servers.low?.requests.length, 0);
  });

  it('applies no window to a model whose catalog entry lacks one', async () => {
    rig = await startRig({}, OA_FIRST);
    const result = await rig.router.execute('chat', { ...REQUEST, inputTokens: 1_000_000 });
    assert.equal(result.provider, 'oa');
  });
});

describe('RouteOutputLimits.maxInputTokens', () => {
  const policy: Policy = {
    version: 1,
    routes: {
      chat: route({
        candidates: [{ provider: 'oa', model: 'm1', weight: 1 }],
        fallbackRoute: 'wide',
      }),
      wide: route({ candidates: [{ provider: 'an', model: 'm2', weight: 1 }] }),
    },
  };

  it('takes the largest window among own and fallback candidates', () => {
    const limits = new RouteOutputLimits(policy, WINDOWED);
    assert.equal(limits.maxInputTokens('chat', 1000), 199_000);
    assert.equal(limits.maxInputTokens('wide', 1000), 199_000);
  });

  it('leaves out models below maxOutputTokens', () => {
    const limits = new RouteOutputLimits(policy, WINDOWED);
    assert.equal(limits.maxInputTokens('chat', 10_000), 118_000);
    assert.equal(limits.maxInputTokens('wide', 10_000), undefined);
  });

  it('returns undefined for an unknown route', () => {
    const limits = new RouteOutputLimits(policy, WINDOWED);
    assert.equal(limits.maxInputTokens('nope', 1000), undefined);
  });

  it('returns Infinity for models without a window', () => {
    const limits = new RouteOutputLimits(policy, CATALOG);
    assert.equal(limits.maxInputTokens('chat', 1000), Number.POSITIVE_INFINITY);
  });
});

/** OpenAI's 400 body for a request above a 128,000-token window. */
const OPENAI_CONTEXT_ERROR = {
  error: {
    message:
      "This model's maximum context length is 128000 tokens. However, you requested 130064 tokens (130000 in the messages, 64 in the completion). Please reduce the length of the messages or completion.",
    type: 'invalid_request_error',
    param: 'messages',
    code: 'context_length_exceeded',
  },
};

/** Anthropic's 400 body for a prompt above a 200,000-token window. */
const ANTHROPIC_CONTEXT_ERROR = {
  type: 'error',
  error: {
    type: 'invalid_request_error',
    message: 'prompt is too long: 200100 tokens > 200000 maximum',
  },
};

describe('Router on a provider context window error', () => {
  let rig: Rig | undefined;

  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  /** `oa/m1` (window 128,000) first, then `low/tiny` (8,192), then `an/m2` (200,000). */
  function threeWindows(failoverOn: readonly string[]): Policy {
    const base = route({
      candidates: [
        { provider: 'oa', model: 'm1', weight: 1 },
        { provider: 'low', model: 'tiny', weight: 0 },
        { provider: 'an', model: 'm2', weight: 0 },
      ],
      qualityFloor: 1,
    });
    const classes = [...base.failoverOn, ...failoverOn] as typeof base.failoverOn;
    return { version: 1, routes: { chat: { ...base, failoverOn: classes } } };
  }

  const rejectOpenAi = () => ({ kind: 'status', status: 400, body: OPENAI_CONTEXT_ERROR }) as const;

  it('fails over past smaller windows to a larger one', async () => {
    rig = await startRig({ oa: rejectOpenAi }, threeWindows(['context_length_exceeded']), {
      catalog: WINDOWED,
    });
    const result = await rig.router.execute('chat', { ...REQUEST, inputTokens: 5000 });
    assert.equal(result.provider, 'an');
    assert.deepEqual(
      result.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.errorClass]),
      [
        ['oa', 'failed', 'context_length_exceeded'],
        ['low', 'skipped', 'context_length_exceeded'],
        ['an', 'success', undefined],
      ],
    );
    assert.equal(rig.servers.oa?.requests.length, 1);
    assert.equal(rig.servers.low?.requests.length, 0);
  });

  it('fails with 400 when failoverOn lacks the class', async () => {
    rig = await startRig({ oa: rejectOpenAi }, threeWindows([]), { catalog: WINDOWED });
    const error = await rejectionOf(rig.router.execute('chat', { ...REQUEST, inputTokens: 5000 }));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(error.httpStatus, 400);
    assert.equal(error.errorClass, 'context_length_exceeded');
    assert.equal(rig.servers.oa?.requests.length, 1);
    assert.equal(rig.servers.an?.requests.length, 0);
  });

  it('never calls the rejecting model again', async () => {
    // With only oa/m1 and low/tiny, no window is larger than the rejected one.
    const policy = threeWindows(['context_length_exceeded']);
    const chat = policy.routes.chat;
    assert.ok(chat !== undefined);
    const twoCandidates = { ...chat, candidates: chat.candidates.slice(0, 2) };
    rig = await startRig({ oa: rejectOpenAi }, twoCandidates, { catalog: WINDOWED });
    const error = await rejectionOf(rig.router.execute('chat', { ...REQUEST, inputTokens: 5000 }));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(rig.servers.oa?.requests.length, 1);
    assert.equal(rig.servers.low?.requests.length, 0);
  });

  it('reads the Anthropic prompt-too-long error', async () => {
    const anFirst = route({
      candidates: [
        { provider: 'an', model: 'm2', weight: 1 },
        { provider: 'oa', model: 'm1', weight: 0 },
      ],
    });
    const reject = () => ({ kind: 'status', status: 400, body: ANTHROPIC_CONTEXT_ERROR }) as const;
    rig = await startRig({ an: reject }, anFirst, { catalog: WINDOWED });
    const error = await rejectionOf(rig.router.execute('chat', { ...REQUEST, inputTokens: 5000 }));
    assert.ok(isRouterError(error));
    assert.equal(error.errorClass, 'context_length_exceeded');
    assert.equal(error.code, 'context_length_exceeded');
  });

  it('keeps status_400 for another 400', async () => {
    const invalid = { error: { message: 'bad', type: 'invalid_request_error', code: null } };
    const reject = () => ({ kind: 'status', status: 400, body: invalid }) as const;
    rig = await startRig({ oa: reject }, threeWindows([]), { catalog: WINDOWED });
    const error = await rejectionOf(rig.router.execute('chat', { ...REQUEST, inputTokens: 5000 }));
    assert.ok(isRouterError(error));
    assert.equal(error.errorClass, 'status_400');
    assert.equal(error.code, 'upstream_rejected');
  });
});

/**
 * Zero-latency copy of a shipped profile whose first model's window is `window`, so that
 * the mock rejects input that fits the window in the router's catalog.
 */
function narrowed(profile: ProviderProfile, window?: number): ProviderProfile {
  const models = profile.models.map((model) => ({
    ...model,
    contextWindowTokens: window ?? model.contextWindowTokens,
    ttftMs: { median: 1, p95: 2 },
    outputTokensPerSecond: { mean: 100_000, stddev: 0 },
  }));
  return { ...profile, models, faults: undefined };
}

describe('Router on a mock provider context window error', () => {
  let mocks: MockProvider[] = [];
  let router: Router | undefined;

  afterEach(async () => {
    await router?.close();
    await Promise.all(mocks.map((mock) => mock.close()));
    router = undefined;
    mocks = [];
  });

  /**
   * Starts provider-a (gpt-4o) and provider-b (claude-sonnet) behind route `chat`, the
   * first one's mock with a window of 20,000 tokens while the router's catalog keeps the
   * shipped windows of 128,000 and 200,000.
   */
  async function setup(primaryName: string, fallbackName: string, failoverOn: string[]) {
    const catalog = await loadProviderCatalog();
    const byName = (name: string): ProviderProfile =>
      catalog.find((profile) => profile.name === name) ?? assert.fail(name);
    const primary = await startMockProvider({ profile: narrowed(byName(primaryName), 20_000) });
    const fallback = await startMockProvider({ profile: narrowed(byName(fallbackName)) });
    mocks = [primary, fallback];
    const modelOf = (name: string): string => byName(name).models[0]?.name ?? '';
    const candidates = [
      { provider: primaryName, model: modelOf(primaryName), weight: 1 },
      { provider: fallbackName, model: modelOf(fallbackName), weight: 0 },
    ];
    const base = route();
    const classes = [...base.failoverOn, ...failoverOn] as typeof base.failoverOn;
    const chat = route({ candidates, failoverOn: classes, qualityFloor: 3 });
    const policy = parsePolicy({ version: 1, routes: { chat } }, catalog);
    const endpoints = {
      [primaryName]: { baseUrl: primary.url, apiKey: 'k1' },
      [fallbackName]: { baseUrl: fallback.url, apiKey: 'k2' },
    };
    router = createRouter({ policy, catalog, endpoints });
    return router;
  }

  it('fails over from an OpenAI context error to a larger window', async () => {
    const chatRouter = await setup('provider-a', 'provider-b', ['context_length_exceeded']);
    const result = await chatRouter.execute('chat', { ...REQUEST, inputTokens: 30_000 });
    assert.equal(result.provider, 'provider-b');
    assert.deepEqual(
      result.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.errorClass]),
      [
        ['provider-a', 'failed', 'context_length_exceeded'],
        ['provider-b', 'success', undefined],
      ],
    );
    assert.equal(result.usage.inputTokens, 30_000);
  });

  it('fails on an Anthropic context error without failover', async () => {
    const chatRouter = await setup('provider-b', 'provider-a', []);
    const request = { ...REQUEST, inputTokens: 19_990 };
    const error = await rejectionOf(chatRouter.execute('chat', request));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(error.errorClass, 'context_length_exceeded');
    assert.equal(error.upstreamStatus, 400);
    assert.match(
      error.message,
      /input length and `max_tokens` exceed context limit: 19990 \+ 64 > 20000/,
    );
  });
});
