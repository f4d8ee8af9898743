import assert from 'node:assert/strict';

import {
  isRouterError,
  type Policy,
  RouteOutputLimits,
  type RouterError,
  type RouterStreamEvent,
} from '../../../src/platform/router/index.js';
import { CATALOG, REQUEST, type Rig, rejectionOf, route, startRig } from './router-fixtures.js';

/** `an/m2` (limit 8,192) first with weight 1, then `oa/m1` (limit 16,384) with weight 0. */
const AN_FIRST = route({
  candidates: [
    { provider: 'an', model: 'm2', weight: 1 },
    { provider: 'oa', model: 'm1', weight: 0 },
  ],
});

/** Route `chat` on `an/m2` alone, falling back to route `wide` on `oa/m1`. */
const WITH_FALLBACK: Policy = {
  version: 1,
  routes: {
    chat: route({
      candidates: [{ provider: 'an', model: 'm2', weight: 1 }],
      fallbackRoute: 'wide',
    }),
    wide: route({ candidates: [{ provider: 'oa', model: 'm1', weight: 1 }] }),
  },
};

describe('Router output limits', () => {
  let rig: Rig | undefined;

  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('skips a candidate below maxOutputTokens and serves from the next', async () => {
    rig = await startRig({}, AN_FIRST);
    const result = await rig.router.execute('chat', { ...REQUEST, maxOutputTokens: 8193 });
    assert.equal(result.provider, 'oa');
    assert.equal(result.model, 'm1');
    assert.deepEqual(
      result.attempts.map((attempt) => [attempt.provider, attempt.outcome]),
      [['oa', 'success']],
    );
    assert.equal(rig.servers.an?.requests.length, 0);
    assert.equal(rig.servers.oa?.requests[0]?.body.max_tokens, 8193);
  });

  it('calls a candidate whose limit equals maxOutputTokens', async () => {
    rig = await startRig({}, AN_FIRST);
    const result = await rig.router.execute('chat', { ...REQUEST, maxOutputTokens: 8192 });
    assert.equal(result.provider, 'an');
    assert.equal(rig.servers.an?.requests[0]?.body.max_tokens, 8192);
    assert.equal(rig.servers.oa?.requests.length, 0);
  });

  it('fails over only to candidates that accept maxOutputTokens', async () => {
    const threeCandidates = route({
      candidates: [
        { provider: 'oa', model: 'm1', weight: 1 },
        { provider: 'low', model: 'tiny', weight: 0 },
        { provider: 'an', model: 'm2', weight: 0 },
      ],
      qualityFloor: 1,
    });
    rig = await startRig({ oa: () => ({ kind: 'status', status: 503 }) }, threeCandidates);
    const result = await rig.router.execute('chat', { ...REQUEST, maxOutputTokens: 5000 });
    assert.equal(result.provider, 'an');
    assert.deepEqual(
      result.attempts.map((attempt) => [attempt.provider, attempt.outcome]),
      [
        ['oa', 'failed'],
        ['an', 'success'],
      ],
    );
    assert.equal(rig.servers.low?.requests.length, 0);
  });

  it('serves from a fallback route when no own candidate accepts', async () => {
    rig = await startRig({}, WITH_FALLBACK);
    const result = await rig.router.execute('chat', { ...REQUEST, maxOutputTokens: 10_000 });
    assert.equal(result.provider, 'oa');
    assert.equal(rig.servers.an?.requests.length, 0);
  });

  it('fails with 400 when no candidate accepts maxOutputTokens', async () => {
    rig = await startRig({}, AN_FIRST);
    const request = { ...REQUEST, maxOutputTokens: 16_385 };
    const error = await rejectionOf(rig.router.execute('chat', request));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'output_limit_exceeded');
    assert.equal(error.httpStatus, 400);
    assert.equal(
      error.message,
      'maxOutputTokens 16385 is above the output limit of every candidate of route "chat", ' +
        'the largest being 16384; send at most 16384',
    );
    assert.deepEqual(error.attempts, []);
    assert.equal(rig.servers.an?.requests.length, 0);
    assert.equal(rig.servers.oa?.requests.length, 0);
  });

  it('ends a stream with the 400 when no candidate accepts', async () => {
    rig = await startRig({}, AN_FIRST);
    const events: RouterStreamEvent[] = [];
    for await (const event of rig.router.stream('chat', { ...REQUEST, maxOutputTokens: 20_000 })) {
      events.push(event);
    }
    assert.equal(events.length, 1);
    const error = events[0]?.type === 'error' ? events[0].error : undefined;
    assert.equal((error as RouterError | undefined)?.code, 'output_limit_exceeded');
  });
});

describe('RouteOutputLimits', () => {
  it('takes the largest limit among own and fallback candidates', () => {
    const limits = new RouteOutputLimits(WITH_FALLBACK, CATALOG);
    assert.equal(limits.largestLimit('chat'), 16_384);
    assert.equal(limits.largestLimit('wide'), 16_384);
  });

  it('leaves out a fallback candidate below the quality floor', () => {
    const policy: Policy = {
      version: 1,
      routes: {
        chat: route({
          candidates: [{ provider: 'an', model: 'm2', weight: 1 }],
          fallbackRoute: 'cheap',
        }),
        cheap: route({
          candidates: [{ provider: 'low', model: 'tiny', weight: 1 }],
          qualityFloor: 1,
        }),
      },
    };
    const wideCatalog = CATALOG.map((provider) =>
      provider.name === 'low'
        ? { ...provider, models: [{ name: 'tiny', qualityTier: 1, maxOutputTokens: 100_000 }] }
        : provider,
    );
    const limits = new RouteOutputLimits(policy, wideCatalog);
    assert.equal(limits.largestLimit('chat'), 8192);
    assert.equal(limits.largestLimit('cheap'), 100_000);
  });

  it('returns undefined for an unknown route', () => {
    const limits = new RouteOutputLimits(WITH_FALLBACK, CATALOG);
    assert.equal(limits.largestLimit('nope'), undefined);
    assert.deepEqual(limits.servingCandidates('nope', 1), []);
  });

  it('lists only the candidates that accept maxOutputTokens', () => {
    const limits = new RouteOutputLimits({ version: 1, routes: { chat: AN_FIRST } }, CATALOG);
    const keys = (maxOutputTokens: number) =>
      limits
        .servingCandidates('chat', maxOutputTokens)
        .map((candidate) => `${candidate.provider}/${candidate.model}`);
    assert.deepEqual(keys(8192), ['an/m2', 'oa/m1']);
    assert.deepEqual(keys(8193), ['oa/m1']);
    assert.deepEqual(keys(16_385), []);
  });
});
