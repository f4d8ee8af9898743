import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';

import { request } from 'undici';

import { systemClock } from '../../../src/platform/clock.js';
import { buildGateway } from '../../../src/platform/gateway/app.js';
import {
  ALPHA_KEY,
  ASYNC_TASK,
  bearer,
  completion,
  fakePlatform,
  SYNC_TASK,
  testTenant,
} from './fake-platform.js';

describe('gateway hardening', () => {
  it('names the received value in a validation error', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, maxOutputTokens: 300000 },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(
      response.json().error.message,
      'invalid field maxOutputTokens: must be <= 200000, got 300000; send 200000 or less',
    );
  });

  it('counts a too-long content in characters', async () => {
    const { app } = fakePlatform();
    const cases = [
      { content: 'x'.repeat(200_001), head: `"${'x'.repeat(80)}"` },
      // Each emoji is two UTF-16 code units but one character, as ajv's maxLength counts.
      { content: '\u{1F600}'.repeat(200_001), head: `"${'\u{1F600}'.repeat(80)}"` },
    ];
    for (const { content, head } of cases) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: bearer(ALPHA_KEY),
        payload: { ...SYNC_TASK, messages: [{ role: 'user', content }] },
      });
      assert.equal(response.statusCode, 400);
      assert.equal(
        response.json().error.message,
        `invalid field messages[0].content: must have at most 200000 characters, got ${head}... (200001 characters); send at most 200000 characters`,
      );
    }
  });

  it('counts a long non-string value in JSON characters', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, messages: { text: 'x'.repeat(100) } },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(
      response.json().error.message,
      `invalid field messages: must be array, got {"text":"${'x'.repeat(71)}... (111 characters of JSON); send a JSON array`,
    );
  });

  it('maps a too-long task id to the gateway error shape', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'GET',
      url: `/v1/tasks/${'x'.repeat(300)}`,
      headers: bearer(ALPHA_KEY),
    });
    assert.equal(response.statusCode, 414);
    assert.deepEqual(response.json(), {
      error: {
        code: 'invalid_request',
        message:
          'task id is longer than 100 characters, got 300; pass the id that POST /v1/tasks returned',
      },
    });
  });

  it('explains an empty task id', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'GET',
      url: '/v1/tasks/',
      headers: bearer(ALPHA_KEY),
    });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      error: {
        code: 'invalid_request',
        message:
          'task id is empty; send GET /v1/tasks/<id> with the id that POST /v1/tasks returned',
      },
    });
  });

  it('names a task id that does not percent-decode', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'GET',
      url: '/v1/tasks/ab%zz?x=1',
      headers: bearer(ALPHA_KEY),
    });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), {
      error: {
        code: 'invalid_request',
        message:
          'invalid URL /v1/tasks/ab%zz: a % in the path must start a percent-encoded byte, such as %20; send the task id that POST /v1/tasks returned',
      },
    });
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const { app } = fakePlatform();
    const deleted = await app.inject({ method: 'DELETE', url: '/v1/tasks/some-id' });
    assert.equal(deleted.statusCode, 405);
    assert.equal(deleted.headers.allow, 'GET');
    assert.deepEqual(deleted.json().error, {
      code: 'method_not_allowed',
      message: 'DELETE /v1/tasks/:id is not supported; use GET /v1/tasks/:id to read a task',
    });
    const listed = await app.inject({ method: 'GET', url: '/v1/tasks' });
    assert.equal(listed.statusCode, 405);
    assert.equal(listed.headers.allow, 'POST');
  });

  it('rejects OPTIONS and TRACE with 405', async () => {
    const { app } = fakePlatform();
    const cases = [
      { method: 'OPTIONS', url: '/v1/tasks', allow: 'POST' },
      { method: 'OPTIONS', url: '/v1/tasks/some-id', allow: 'GET' },
      { method: 'OPTIONS', url: '/metrics', allow: 'GET' },
      { method: 'TRACE', url: '/healthz', allow: 'GET' },
    ] as const;
    for (const { method, url, allow } of cases) {
      const response = await app.inject({ method, url });
      assert.equal(response.statusCode, 405, `${method} ${url}`);
      assert.equal(response.headers.allow, allow, `${method} ${url}`);
      assert.equal(response.json().error.code, 'method_not_allowed', `${method} ${url}`);
      assert.match(response.json().error.message, new RegExp(`^${method} \\S+ is not supported`));
    }
  });

  it('answers a wrong method on health routes', async () => {
    const { app } = fakePlatform();
    const cases = [
      { url: '/healthz', use: 'GET /healthz for liveness' },
      { url: '/readyz', use: 'GET /readyz for readiness' },
      { url: '/metrics', use: 'GET /metrics for the Prometheus exposition' },
    ];
    for (const { url, use } of cases) {
      const response = await app.inject({ method: 'POST', url });
      assert.equal(response.statusCode, 405, url);
      assert.equal(response.headers.allow, 'GET', url);
      assert.deepEqual(
        response.json().error,
        { code: 'method_not_allowed', message: `POST ${url} is not supported; use ${use}` },
        url,
      );
    }
  });

  it('points POST /v1/tasks/ at /v1/tasks', async () => {
    const { app, enqueued } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks/?x=1',
      headers: bearer(ALPHA_KEY),
      payload: ASYNC_TASK,
    });
    assert.equal(response.statusCode, 405);
    assert.equal(response.headers.allow, 'GET');
    assert.equal(
      response.json().error.message,
      'POST /v1/tasks/ is not supported; use POST /v1/tasks, without the trailing slash, to create a task',
    );
    assert.equal(enqueued.length, 0);
  });

  it('says the Bearer scheme is missing', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { authorization: ALPHA_KEY },
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 401);
    assert.equal(
      response.json().error.message,
      'Authorization header lacks the Bearer scheme; send Authorization: Bearer <tenant key>',
    );
  });

  it('says the Bearer key is missing', async () => {
    const { app } = fakePlatform();
    for (const authorization of ['Bearer', 'Bearer   ', 'bearer\t']) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: { authorization },
        payload: SYNC_TASK,
      });
      assert.equal(response.statusCode, 401, JSON.stringify(authorization));
      assert.equal(
        response.json().error.message,
        'Authorization header has no key after Bearer; send Authorization: Bearer <tenant key>, with the key as one word',
        JSON.stringify(authorization),
      );
    }
  });

  it('says a Bearer key has several words', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { authorization: `Bearer ${ALPHA_KEY} ${ALPHA_KEY}` },
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], 'Bearer');
    const { message } = response.json().error;
    assert.equal(
      message,
      'Authorization header has more than one word after Bearer; send Authorization: Bearer <tenant key>, with the key as one word',
    );
    assert.doesNotMatch(message, new RegExp(ALPHA_KEY));
  });

  it('returns 415 for text/plain', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'content-type': 'text/plain' },
      payload: JSON.stringify(SYNC_TASK),
    });
    assert.equal(response.statusCode, 415);
    assert.equal(
      response.json().error.message,
      'send the body as application/json; got Content-Type text/plain',
    );
  });

  it('returns 415 without a content type', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: Buffer.from(JSON.stringify(SYNC_TASK)),
    });
    assert.equal(response.statusCode, 415);
    assert.equal(
      response.json().error.message,
      'send the body as application/json; got no Content-Type header',
    );
  });

  it('returns 415 for a gzip-encoded body', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: {
        ...bearer(ALPHA_KEY),
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      payload: gzipSync(JSON.stringify(SYNC_TASK)),
    });
    assert.equal(response.statusCode, 415);
    assert.equal(response.headers['accept-encoding'], 'identity');
    const { error } = response.json();
    assert.equal(error.code, 'unsupported_media_type');
    assert.equal(error.field, 'Content-Encoding');
    assert.equal(
      error.message,
      'Content-Encoding gzip is not supported; send the JSON body uncompressed, without a Content-Encoding header',
    );
  });

  it('accepts Content-Encoding identity', async () => {
    const { app } = fakePlatform();
    for (const coding of ['identity', ' Identity ']) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: { ...bearer(ALPHA_KEY), 'content-encoding': coding },
        payload: ASYNC_TASK,
      });
      assert.equal(response.statusCode, 202, `Content-Encoding '${coding}'`);
    }
  });

  it('returns 422 for a reused Idempotency-Key', async () => {
    const { app } = fakePlatform();
    const send = (maxOutputTokens: number) =>
      app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: { ...bearer(ALPHA_KEY), 'idempotency-key': 'key-1' },
        payload: { ...SYNC_TASK, maxOutputTokens },
      });
    assert.equal((await send(32)).statusCode, 200);
    assert.equal((await send(32)).headers['idempotent-replayed'], 'true');
    const reused = await send(64);
    assert.equal(reused.statusCode, 422);
    assert.equal(reused.json().error.code, 'idempotency_key_reused');
  });

  it('returns 409 for a key still being admitted', async () => {
    const { app, router, store } = fakePlatform();
    // A claim without its task is what a first request leaves while it is admitted.
    await store.claimIdempotencyKey('tenant-alpha', 'key-1', 'task-being-admitted');
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'idempotency-key': 'key-1' },
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 409);
    assert.equal(response.headers['retry-after'], '1');
    assert.equal(response.headers['x-task-id'], undefined);
    assert.deepEqual(response.json(), {
      error: {
        code: 'idempotency_conflict',
        message:
          'a request with this Idempotency-Key is still being admitted; retry after 1 s with the same key and body',
      },
    });
    assert.equal(router.calls.length, 0);
  });

  it('names the length of a too-long Idempotency-Key', async () => {
    const { app, router } = fakePlatform();
    const key = 'k'.repeat(300);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'idempotency-key': key },
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.field, 'Idempotency-Key');
    assert.equal(
      response.json().error.message,
      'invalid header Idempotency-Key: must be 1 to 255 characters, got 300; send a shorter key, such as a UUID',
    );
    assert.ok(!response.body.includes(key), 'the key stays out of the body');
    assert.equal(router.calls.length, 0);
  });

  it('names an empty Idempotency-Key', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { ...bearer(ALPHA_KEY), 'idempotency-key': '' },
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 400);
    assert.equal(
      response.json().error.message,
      'invalid header Idempotency-Key: must be 1 to 255 characters, got an empty value; send a key, such as a UUID, or leave the header out',
    );
  });

  it('rejects two Idempotency-Key headers', async () => {
    const { app, router } = fakePlatform();
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const send = (keys: string[]) =>
        request(`http://127.0.0.1:${port}/v1/tasks`, {
          method: 'POST',
          headers: [
            'authorization',
            `Bearer ${ALPHA_KEY}`,
            'content-type',
            'application/json',
            ...keys.flatMap((key) => ['Idempotency-Key', key]),
          ],
          body: JSON.stringify(SYNC_TASK),
        });
      const twice = await send(['a1', 'a2']);
      assert.equal(twice.statusCode, 400);
      assert.deepEqual(await twice.body.json(), {
        error: {
          code: 'invalid_request',
          message: 'invalid header Idempotency-Key: sent 2 times; send it once, with one key',
          field: 'Idempotency-Key',
        },
      });
      assert.equal(router.calls.length, 0);
      // One header whose value has a comma is one key.
      const once = await send(['a1, a2']);
      assert.equal(once.statusCode, 200);
      await once.body.dump();
    } finally {
      await app.close();
    }
  });

  it('rejects two Authorization headers', async () => {
    const { app, router } = fakePlatform();
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const otherKey = 'sk-other-test-0123456789';
      const cases = [
        { method: 'POST', path: '/v1/tasks', body: JSON.stringify(SYNC_TASK) },
        { method: 'GET', path: '/v1/tasks/t1', body: undefined },
      ] as const;
      for (const { method, path, body } of cases) {
        const response = await request(`http://127.0.0.1:${port}${path}`, {
          method,
          headers: [
            'Authorization',
            `Bearer ${ALPHA_KEY}`,
            'authorization',
            `Bearer ${otherKey}`,
            'content-type',
            'application/json',
          ],
          body,
        });
        assert.equal(response.statusCode, 400, `${method} ${path}`);
        assert.equal(response.headers['www-authenticate'], 'Bearer error="invalid_request"');
        const text = await response.body.text();
        assert.deepEqual(JSON.parse(text), {
          error: {
            code: 'invalid_request',
            message:
              'invalid header Authorization: sent 2 times; send it once, with one tenant key',
            field: 'Authorization',
          },
        });
        assert.doesNotMatch(text, new RegExp(ALPHA_KEY));
        assert.doesNotMatch(text, new RegExp(otherKey));
      }
      assert.equal(router.calls.length, 0);
    } finally {
      await app.close();
    }
  });

  it('answers a request during close in its own format', async () => {
    const { app, router } = fakePlatform();
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const releasedRouter = new Promise<void>((resolve) => {
      release = resolve;
    });
    router.behaviour = async () => {
      started();
      await releasedRouter;
      return completion('done');
    };
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    assert.ok(address !== null);
    assert.ok(typeof address === 'object');
    // Two requests on one kept-alive connection: the second arrives after close began.
    const socket = connect(address.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const body = JSON.stringify(SYNC_TASK);
    const post = [
      'POST /v1/tasks HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: Bearer ${ALPHA_KEY}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    try {
      socket.write(post);
      await running;
      const closed = app.close();
      // The close hooks run first; a request parsed before them is served as usual.
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.write(post);
      release();
      await ended;
      await closed;
      const text = Buffer.concat(received).toString('utf8');
      const responses = text.split(/(?=HTTP\/1\.1 )/);
      assert.equal(responses.length, 2, text);
      assert.match(responses[0] ?? '', /^HTTP\/1\.1 200 /);
      assert.match(responses[1] ?? '', /^HTTP\/1\.1 503 /);
      assert.match(responses[1] ?? '', /\r\nretry-after: 1\r\n/i);
      const json = JSON.parse((responses[1] ?? '').split('\r\n\r\n')[1] ?? '{}') as {
        error?: { code?: string; message?: string };
      };
      assert.equal(json.error?.code, 'shutting_down');
      assert.match(json.error?.message ?? '', /the gateway is shutting down; retry after 1 s/);
    } finally {
      release();
      socket.destroy();
      await app.close();
    }
  });

  it('logs only 5xx responses at info', async () => {
    const { app, router, logs } = fakePlatform();
    router.behaviour = async () => {
      throw new Error('router exploded');
    };
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(logs, []);
    const failed = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: SYNC_TASK,
    });
    assert.equal(failed.statusCode, 500);
    const records = logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const completed = records.filter((record) =>
      String(record.msg).startsWith('request completed'),
    );
    assert.equal(completed.length, 1);
    assert.equal(completed[0]?.level, 40);
    assert.deepEqual(completed[0]?.res, { statusCode: 500 });
    assert.ok(!records.some((record) => record.msg === 'incoming request'));
  });

  it('logs a failed readiness probe at debug', async () => {
    const failed = { status: 'failed', message: 'PING timed out' } as const;
    const redis = { name: 'redis', check: async () => failed, lastResult: () => failed };
    const { app, logs } = fakePlatform({ readiness: [redis] });
    const probe = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(probe.statusCode, 503);
    assert.deepEqual(logs, []);
  });

  it('rejects steps * toolWaitMs over the limit', async () => {
    const { app } = fakePlatform();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, mode: 'async', steps: 100, toolWaitMs: 600000 },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(
      response.json().error.message,
      'invalid fields steps and toolWaitMs: steps * toolWaitMs must be <= 900000 ms (maxTaskDurationMs), got 100 * 600000 = 60000000 ms; lower steps or toolWaitMs',
    );
  });

  it('times out a request whose body never completes', async function () {
    this.timeout(10_000);
    const { store, admission } = fakePlatform();
    const app = buildGateway({
      tenants: { authenticate: () => testTenant('tenant-alpha', ALPHA_KEY) },
      store,
      admission: { admit: async () => assert.fail('not admitted'), release: async () => {} },
      executor: { name: 'none', execute: async () => assert.fail('not run') },
      queue: { enqueue: async (id) => ({ id, duplicate: false }) },
      routes: { names: () => ['default'] },
      requestTimeoutMs: 300,
    });
    void admission;
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const reply = await partialPost(port);
      assert.match(reply, /^HTTP\/1\.1 408 /);
      assert.match(reply, /"code":"request_timeout"/);
    } finally {
      await app.close();
    }
  });

  it('sends 408 soon after the request timeout', async function () {
    this.timeout(10_000);
    const app = idleGateway(1_000);
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      // Node's connection checks start at listen. Opening the connection 200 ms later
      // means an interval as long as the timeout sends the 408 only after 1.8 s.
      await systemClock.sleep(200);
      const startedAt = performance.now();
      const reply = await partialPost(port);
      const elapsedMs = performance.now() - startedAt;
      assert.match(reply, /^HTTP\/1\.1 408 /);
      assert.ok(
        elapsedMs >= 950,
        `408 after ${elapsedMs.toFixed(0)} ms, before the 1000 ms timeout`,
      );
      assert.ok(elapsedMs < 1_500, `408 after ${elapsedMs.toFixed(0)} ms, expected below 1500 ms`);
    } finally {
      await app.close();
    }
  });
});

/** Builds a gateway with `requestTimeoutMs` whose routes must never be reached. */
function idleGateway(requestTimeoutMs: number) {
  return buildGateway({
    tenants: { authenticate: () => testTenant('tenant-alpha', ALPHA_KEY) },
    store: fakePlatform().store,
    admission: { admit: async () => assert.fail('not admitted'), release: async () => {} },
    executor: { name: 'none', execute: async () => assert.fail('not run') },
    queue: { enqueue: async (id) => ({ id, duplicate: false }) },
    routes: { names: () => ['default'] },
    requestTimeoutMs,
  });
}

/** Sends headers announcing 100 bytes and only 10 of them; resolves with what the server sends. */
function partialPost(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 5 s'));
    }, 5_000);
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', () => undefined);
    socket.write(
      'POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\n' +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"route":',
    );
  });
}
