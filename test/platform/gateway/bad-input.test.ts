import assert from 'node:assert/strict';

import { ALPHA_KEY, ASYNC_TASK, bearer, fakePlatform, SYNC_TASK } from './fake-platform.js';

describe('gateway bad input', () => {
  it('answers malformed JSON with 400', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json' },
      payload: '{"route": "default",',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'invalid_json');
  });

  it('names the JSON syntax error', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json; charset=utf-8' },
      payload: '{"route": }',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'invalid_json');
    assert.match(response.json().error.message, /^malformed JSON body: Unexpected token/);
    assert.match(response.json().error.message, /; send the task as one valid JSON object$/);
  });

  it('answers an empty JSON body with 400', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json' },
      payload: '',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'invalid_json');
  });

  it('skips a UTF-8 byte order mark', async () => {
    const { app, enqueued } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json' },
      payload: Buffer.from(`\uFEFF${JSON.stringify(ASYNC_TASK)}`, 'utf8'),
    });
    assert.equal(response.statusCode, 202);
    assert.equal(enqueued.length, 1);
  });

  it('names a byte that is not UTF-8', async () => {
    const { app, enqueued } = fakePlatform();
    // A real U+FFFD and an emoji come first, so the offset must count their bytes.
    const head = `{"route":"default","maxOutputTokens":32,"mode":"async","messages":[{"role":"user","content":"\uFFFD 🌍 caf`;
    const payload = Buffer.concat([
      Buffer.from(head, 'utf8'),
      Buffer.from([0xe9]),
      Buffer.from('"}]}'),
    ]);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json; charset=iso-8859-1' },
      payload,
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'invalid_json');
    const offset = Buffer.byteLength(head, 'utf8');
    assert.equal(
      response.json().error.message,
      `malformed JSON body: byte ${offset} (0xE9) is not UTF-8; encode the body as UTF-8, as JSON requires, and send the task as one valid JSON object`,
    );
    assert.equal(enqueued.length, 0);
  });

  it('keeps valid non-ASCII text unchanged', async () => {
    const { app, store } = fakePlatform();
    const content = '\uFFFD café 🌍 \u4E2D\u6587';
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...ASYNC_TASK, messages: [{ role: 'user', content }] },
    });
    assert.equal(response.statusCode, 202);
    const task = await store.get('tenant-alpha', response.json().id);
    assert.equal(task?.request.messages?.[0]?.content, content);
  });

  /** Posts SYNC_TASK with `fields` in place of its own and returns the 400 error. */
  async function rejectedWith(fields: Record<string, unknown>) {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, ...fields },
    });
    assert.equal(response.statusCode, 400);
    return response.json().error;
  }

  it('suggests the mode a misspelling is close to', async () => {
    const error = await rejectedWith({ mode: 'Async' });
    assert.equal(error.field, 'mode');
    assert.equal(
      error.message,
      'invalid field mode: must be one of sync, async, got "Async"; send async',
    );
  });

  it('asks for an allowed role', async () => {
    const error = await rejectedWith({ messages: [{ role: 'robot', content: 'hi' }] });
    assert.equal(error.field, 'messages[0].role');
    assert.equal(
      error.message,
      'invalid field messages[0].role: must be one of system, user, assistant, tool, got "robot"; send one of them',
    );
  });

  it('names a forbidden body key', async () => {
    const { app, router } = fakePlatform();
    const task = JSON.stringify(SYNC_TASK).slice(0, -1);
    const cases = [
      { payload: `${task},"__proto__":{"admin":true}}`, key: '__proto__', field: '__proto__' },
      {
        payload: `${task},"constructor":{"prototype":{"admin":true}}}`,
        key: 'constructor',
        field: 'constructor',
      },
      {
        payload: `${task},"messages":[{"role":"user","content":"hi","__proto__":{}}]}`,
        key: '__proto__',
        field: 'messages[0].__proto__',
      },
    ];
    for (const { payload, key, field } of cases) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json' },
        payload,
      });
      assert.equal(response.statusCode, 400, payload);
      const { error } = response.json();
      assert.equal(error.code, 'invalid_request');
      assert.equal(error.field, field);
      assert.match(error.message, new RegExp(`^invalid key ${key} in `));
      assert.match(error.message, /are not allowed; remove it$/);
    }
    assert.equal(router.calls.length, 0);
  });

  it('answers an unknown route with 400 listing valid ones', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, route: 'nonexistent' },
    });
    assert.equal(response.statusCode, 400);
    const { error } = response.json();
    assert.equal(error.code, 'unknown_route');
    assert.equal(error.field, 'route');
    assert.match(error.message, /"nonexistent"/);
    assert.match(error.message, /valid routes: default, cheap/);
  });

  it('answers a missing key with 401', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({ method: 'POST', url: '/v1/tasks', payload: SYNC_TASK });
    assert.equal(response.statusCode, 401);
    assert.equal(response.json().error.code, 'unauthorized');
    assert.equal(response.headers['www-authenticate'], 'Bearer');
  });

  it('answers an invalid key with 401', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer('sk-not-a-tenant'),
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 401);
    const { message } = response.json().error;
    assert.match(message, /^invalid API key: /);
    assert.match(message, /send Authorization: Bearer <key>/);
    assert.match(message, /tenants file/);
  });

  it('checks the key before parsing the body', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    assert.equal(response.statusCode, 401);
  });

  it('answers an oversized body with 413', async () => {
    const { app } = fakePlatform({ bodyLimitBytes: 1_024 });
    const content = 'x'.repeat(2_000);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, messages: [{ role: 'user', content }] },
    });
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().error.code, 'payload_too_large');
    assert.match(response.json().error.message, /^request body exceeds 1024 bytes; send fewer/);
  });

  it('names an invalid field in a 400', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, maxOutputTokens: 'many' },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.field, 'maxOutputTokens');
  });

  it('names a nested invalid field', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, messages: [{ role: 'robot', content: 'hi' }] },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.field, 'messages[0].role');
  });

  it('names a missing required field', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { route: 'default', mode: 'sync' },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.field, 'maxOutputTokens');
  });

  it('rejects an unknown field', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, temperature: 0.2 },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.field, 'temperature');
    assert.equal(
      response.json().error.message,
      'invalid field temperature: is not a known field; remove it',
    );
  });

  it('suggests the field an unknown one misspells', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, toolWaitMS: 100 },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.field, 'toolWaitMS');
    assert.equal(
      response.json().error.message,
      'invalid field toolWaitMS: is not a known field; did you mean toolWaitMs? Otherwise remove it',
    );
  });

  it('suggests a field only when it is unset', async () => {
    const { app } = fakePlatform();
    const send = (message: object) =>
      app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: bearer(ALPHA_KEY),
        payload: { ...SYNC_TASK, messages: [message] },
      });
    const extra = await send({ role: 'user', content: 'hi', contents: 'hi' });
    assert.equal(
      extra.json().error.message,
      'invalid field messages[0].contents: is not a known field; remove it',
    );
  });

  it('names the misspelt key of a missing field', async () => {
    const { app } = fakePlatform();
    const send = (payload: object) =>
      app.inject({ method: 'POST', url: '/v1/tasks', headers: bearer(ALPHA_KEY), payload });
    const top = await send({ route: 'default', mode: 'sync', maxOutputToken: 8 });
    assert.equal(top.statusCode, 400);
    assert.equal(top.json().error.field, 'maxOutputTokens');
    assert.equal(
      top.json().error.message,
      'invalid field maxOutputTokens: is required; rename maxOutputToken to maxOutputTokens',
    );
    const nested = await send({ ...SYNC_TASK, messages: [{ role: 'user', contnet: 'hi' }] });
    assert.equal(
      nested.json().error.message,
      'invalid field messages[0].content: is required; rename contnet to content',
    );
  });

  it('says how to fix a value of the wrong type', async () => {
    const { app } = fakePlatform();
    const cases = [
      {
        payload: { ...SYNC_TASK, maxOutputTokens: '32' },
        message: 'invalid field maxOutputTokens: must be integer, got "32"; send 32 without quotes',
      },
      {
        payload: { ...SYNC_TASK, stream: 'true' },
        message: 'invalid field stream: must be boolean, got "true"; send true without quotes',
      },
      {
        payload: { ...SYNC_TASK, maxOutputTokens: 8.5 },
        message: 'invalid field maxOutputTokens: must be integer, got 8.5; send a whole number',
      },
      {
        payload: { ...SYNC_TASK, maxOutputTokens: 'many' },
        message: 'invalid field maxOutputTokens: must be integer, got "many"; send a whole number',
      },
      {
        payload: { ...SYNC_TASK, maxOutputTokens: null },
        message: 'invalid field maxOutputTokens: must be integer, got null; send a whole number',
      },
      {
        payload: { ...SYNC_TASK, route: 5 },
        message: 'invalid field route: must be string, got 5; send a JSON string in double quotes',
      },
      {
        payload: { ...SYNC_TASK, stream: 1 },
        message: 'invalid field stream: must be boolean, got 1; send true or false, without quotes',
      },
      {
        payload: { ...SYNC_TASK, stream: 'yes' },
        message:
          'invalid field stream: must be boolean, got "yes"; send true or false, without quotes',
      },
      {
        payload: { ...SYNC_TASK, messages: 'hi' },
        message: 'invalid field messages: must be array, got "hi"; send a JSON array',
      },
      {
        payload: { ...SYNC_TASK, messages: ['hi'] },
        message:
          'invalid field messages[0]: must be object, got "hi"; send a JSON object with role and content',
      },
      {
        payload: { ...SYNC_TASK, messages: [{ role: 'user', content: 5 }] },
        message:
          'invalid field messages[0].content: must be string, got 5; send a JSON string in double quotes',
      },
      {
        payload: [SYNC_TASK],
        message: `request body must be object, got ${JSON.stringify([SYNC_TASK])}; send one JSON object with route, maxOutputTokens and mode`,
      },
    ];
    for (const { payload, message } of cases) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json' },
        payload: JSON.stringify(payload),
      });
      assert.equal(response.statusCode, 400, message);
      assert.equal(response.json().error.message, message);
    }
  });

  it('states size limits in plain words', async () => {
    const { app } = fakePlatform();
    const cases = [
      {
        payload: { ...SYNC_TASK, messages: [] },
        message: 'invalid field messages: must have at least 1 item, got []; send at least 1 item',
      },
      {
        payload: { ...SYNC_TASK, route: '' },
        message:
          'invalid field route: must have at least 1 character, got ""; send at least 1 character',
      },
      {
        payload: { ...SYNC_TASK, route: 'r'.repeat(201) },
        message: `invalid field route: must have at most 200 characters, got "${'r'.repeat(80)}"... (201 characters); send at most 200 characters`,
      },
      {
        payload: { ...SYNC_TASK, steps: 0 },
        message: 'invalid field steps: must be >= 1, got 0; send 1 or more',
      },
    ];
    for (const { payload, message } of cases) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: bearer(ALPHA_KEY),
        payload,
      });
      assert.equal(response.statusCode, 400, message);
      assert.equal(response.json().error.message, message);
    }
  });

  it('says to add a missing field', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, messages: [{ role: 'user' }] },
    });
    assert.equal(
      response.json().error.message,
      'invalid field messages[0].content: is required; add it',
    );
  });

  it('leaves an unknown field value out', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, apiKey: ALPHA_KEY },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.field, 'apiKey');
    assert.ok(!response.body.includes(ALPHA_KEY), response.body);
  });

  it('rejects forcedOutputTokens above maxOutputTokens', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, maxOutputTokens: 1, forcedOutputTokens: 20_000 },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.field, 'forcedOutputTokens');
    assert.equal(
      response.json().error.message,
      'invalid field forcedOutputTokens: must be at most maxOutputTokens (1), got 20000; raise maxOutputTokens or lower forcedOutputTokens',
    );
  });

  it('rejects stream with async mode', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, mode: 'async', stream: true },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.field, 'stream');
    assert.equal(
      response.json().error.message,
      'invalid field stream: true needs mode sync, got mode async; send mode sync to stream the response, or leave stream out and read the task with GET /v1/tasks/:id',
    );
  });

  it('answers an unknown path with 404 listing endpoints', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({ method: 'GET', url: '/v2/things' });
    assert.equal(response.statusCode, 404);
    assert.match(
      response.json().error.message,
      /GET \/v2\/things; valid endpoints: POST \/v1\/tasks/,
    );
  });
});
