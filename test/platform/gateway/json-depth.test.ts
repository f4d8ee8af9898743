import assert from 'node:assert/strict';

import { findTooDeep, MAX_JSON_DEPTH } from '../../../src/platform/gateway/json-depth.js';
import { validationGatewayError } from '../../../src/platform/gateway/validation-error.js';
import { ALPHA_KEY, bearer, fakePlatform, SYNC_TASK } from './fake-platform.js';

/** Builds arrays nested `depth` levels deep, as JSON text. */
function nestedArrays(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** Builds a sync task body whose `messages` is arrays nested `depth` levels deep. */
function bodyWithMessages(depth: number): string {
  return `${JSON.stringify(SYNC_TASK).slice(0, -1)},"messages":${nestedArrays(depth)}}`;
}

const TOO_DEEP_MESSAGE =
  'invalid field messages: arrays and objects nested more than 32 levels deep; the gateway ' +
  'accepts at most 32 levels, and a valid task body needs 3 (the body, messages and each ' +
  'message), so flatten the value';

describe('gateway JSON depth limit', () => {
  for (const depth of [5000, 3000, 100_000]) {
    it(`rejects messages nested ${depth} deep`, async () => {
      const { app, router } = fakePlatform();
      const response = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json' },
        payload: bodyWithMessages(depth),
      });
      assert.equal(response.statusCode, 400);
      const { error } = response.json();
      assert.equal(error.code, 'invalid_request');
      assert.equal(error.field, 'messages');
      assert.equal(error.message, TOO_DEEP_MESSAGE);
      assert.equal(router.calls.length, 0);
    });
  }

  it('parses the limit and rejects one past it', async () => {
    const { app } = fakePlatform();
    // The body object is level 1, so `messages` nested 31 deep reaches level 32.
    const atLimit = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json' },
      payload: bodyWithMessages(MAX_JSON_DEPTH - 1),
    });
    assert.equal(atLimit.statusCode, 400);
    assert.match(
      atLimit.json().error.message,
      /^invalid field messages\[0\]: must be object, got /,
    );
    const pastLimit = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json' },
      payload: bodyWithMessages(MAX_JSON_DEPTH),
    });
    assert.equal(pastLimit.statusCode, 400);
    assert.equal(pastLimit.json().error.message, TOO_DEEP_MESSAGE);
  });

  it('rejects a deeply nested root array', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json' },
      payload: nestedArrays(5000),
    });
    assert.equal(response.statusCode, 400);
    const { error } = response.json();
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.field, undefined);
    assert.match(error.message, /^invalid request body: arrays and objects nested more than 32 /);
  });

  it('finds depth through objects and arrays', () => {
    const value = { a: [{ b: [[{}]] }] };
    assert.equal(findTooDeep(value, 6), undefined);
    assert.deepEqual(findTooDeep(value, 5), { field: 'a' });
    assert.deepEqual(findTooDeep([[1]], 1), { field: undefined });
    assert.equal(findTooDeep('text', 0), undefined);
  });
});

describe('validationGatewayError', () => {
  it('describes a too-deep value without quoting it', () => {
    let value: unknown = [];
    for (let level = 1; level < 10_000; level += 1) value = [value];
    const issue = {
      keyword: 'type',
      instancePath: '/messages/0',
      params: { type: 'object' },
      message: 'must be object',
    };
    const error = validationGatewayError([issue], { messages: [value] });
    assert.equal(error.status, 400);
    assert.equal(
      error.message,
      'invalid field messages[0]: must be object, got an array or object nested more than 32 levels deep; send a JSON object',
    );
  });

  it('quotes a value at the depth limit', () => {
    let value: unknown = [];
    for (let level = 1; level < MAX_JSON_DEPTH; level += 1) value = [value];
    const issue = { keyword: 'type', instancePath: '', params: {}, message: 'must be object' };
    const error = validationGatewayError([issue], value);
    assert.match(error.message, /^request body must be object, got \[\[\[/);
  });
});
