import assert from 'node:assert/strict';

import { loadProviderCatalog } from '../../../src/faults/providers/index.js';
import { loadPolicy, RouteOutputLimits } from '../../../src/platform/router/index.js';
import { ALPHA_KEY, bearer, type FakePlatform, fakePlatform } from './fake-platform.js';

/** Builds a fake platform with the routes and output limits of `policies/default.yaml`. */
async function defaultPolicyPlatform(): Promise<FakePlatform> {
  const catalog = await loadProviderCatalog();
  const policy = await loadPolicy('policies/default.yaml', catalog);
  const limits = new RouteOutputLimits(policy, catalog);
  return fakePlatform({
    routes: {
      names: () => Object.keys(policy.routes),
      maxOutputTokens: (route) => limits.largestLimit(route),
    },
  });
}

function submit(platform: FakePlatform, body: Record<string, unknown>) {
  return platform.app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: bearer(ALPHA_KEY),
    payload: body,
  });
}

describe('gateway output limits', () => {
  it('rejects a task no candidate can serve with 400', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submit(platform, {
      route: 'chat',
      maxOutputTokens: 16_385,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      error: {
        code: 'invalid_request',
        message:
          'invalid field maxOutputTokens: route "chat" can serve at most 16384 output tokens, ' +
          'the largest limit among its candidate models, got 16385; ' +
          'send maxOutputTokens of at most 16384',
        field: 'maxOutputTokens',
      },
    });
    assert.equal(platform.router.calls.length, 0);
  });

  it('rejects an async task before it is queued', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submit(platform, {
      route: 'summarize',
      maxOutputTokens: 20_000,
      mode: 'async',
    });
    assert.equal(response.statusCode, 400);
    assert.match(response.json().error.message, /route "summarize" can serve at most 16384 /);
    assert.equal(platform.enqueued.length, 0);
  });

  it('accepts maxOutputTokens equal to the largest limit', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submit(platform, {
      route: 'chat-fast',
      maxOutputTokens: 16_384,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 200);
    assert.equal(platform.router.calls[0]?.maxOutputTokens, 16_384);
  });

  it('takes the bench route up to the schema maximum', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submit(platform, {
      route: 'bench',
      maxOutputTokens: 200_000,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 200);
  });

  it('checks the route before the output limit', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submit(platform, {
      route: 'nope',
      maxOutputTokens: 16_385,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'unknown_route');
  });
});
