import assert from 'node:assert/strict';

import { defaultPolicyPlatform, submitTask } from './fake-platform.js';

describe('gateway output limits', () => {
  it('rejects a task no candidate can serve with 400', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submitTask(platform, {
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
    const response = await submitTask(platform, {
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
    const response = await submitTask(platform, {
      route: 'chat-fast',
      maxOutputTokens: 16_384,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 200);
    assert.equal(platform.router.calls[0]?.maxOutputTokens, 16_384);
  });

  it('takes the bench route up to the schema maximum', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submitTask(platform, {
      route: 'bench',
      maxOutputTokens: 200_000,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 200);
  });

  it('checks the route before the output limit', async () => {
    const platform = await defaultPolicyPlatform();
    const response = await submitTask(platform, {
      route: 'nope',
      maxOutputTokens: 16_385,
      mode: 'sync',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'unknown_route');
  });
});
