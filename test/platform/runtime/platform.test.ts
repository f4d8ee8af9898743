import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { request as undiciRequest } from 'undici';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function call(
  platform: Platform,
  key: string,
  method: string,
  path: string,
  body?: unknown,
  headers = {},
) {
  const response = await undiciRequest(`${platform.urls.gateway}${path}`, {
    method: method as 'GET' | 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.statusCode, body: (await response.body.json()) as Reply['body'] };
}

async function setFaults(url: string, faults: unknown): Promise<void> {
  const response = await undiciRequest(`${url}/_control/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  assert.equal(response.statusCode, 200);
  await response.body.dump();
}

async function waitForTerminal(platform: Platform, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await platform.store.accounting();
    if (counts.queued + counts.running === 0 || Date.now() > deadline) return counts;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sum of the registry's samples of `name` whose labels include every pair in `labels`. */
async function metricSum(
  platform: Platform,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  let sum = 0;
  for (const metric of await platform.registry.getMetricsAsJSON()) {
    for (const sample of metric.values as {
      metricName?: string;
      labels: Record<string, string | number>;
      value: number;
    }[]) {
      const sampleName = sample.metricName ?? metric.name;
      if (sampleName !== name) continue;
      if (Object.entries(labels).every(([label, value]) => sample.labels[label] === value)) {
        sum += sample.value;
      }
    }
  }
  return sum;
}

/** Polls `read` until it reaches `expected` or `timeoutMs` passes; returns the last value. */
async function waitForValue(read: () => Promise<number>, expected: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (value < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

describe('startPlatform on Redis', () => {
  let platform: Platform;
  let keys: Map<string, string>;
  const logs: string[] = [];

  before(async function () {
    this.timeout(30_000);
    keys = await loadDemoKeys();
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(chunk.toString('utf8'));
        callback();
      },
    });
    platform = await startPlatform({
      topology: 'workers=64 serverless_burst=enabled',
      redisUrl: 'redis://127.0.0.1:6379',
      keyPrefix: `test-platform-${randomUUID()}`,
      queue: { maxAttempts: 2, backoffBaseMs: 20, backoffMaxMs: 100 },
      logger: pino({ level: 'info' }, stream),
    });
  });

  after(async () => {
    // The purge runs after the workers stopped, so a task they end late writes no key after it.
    await platform.stop({ purge: true });
  });

  const key = (tenant: string) => keys.get(tenant) ?? '';

  it('runs a sync task through the serverless emulator', async () => {
    const reply = await call(platform, key('tenant-alpha'), 'POST', '/v1/tasks', {
      route: 'bench',
      maxOutputTokens: 8,
      mode: 'sync',
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.state, 'succeeded');
    assert.equal(typeof reply.body.costUsd, 'number');
  });

  it('rejects input above every context window', async () => {
    const reply = await call(platform, key('tenant-alpha'), 'POST', '/v1/tasks', {
      route: 'summarize',
      inputTokens: 2_000_000,
      maxOutputTokens: 1024,
      mode: 'async',
    });
    assert.equal(reply.status, 400);
    const error = reply.body.error as Record<string, unknown>;
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(error.field, 'inputTokens');
    assert.match(
      String(error.message),
      /send at most 198976 input tokens, or lower maxOutputTokens$/,
    );
    assert.equal(reply.body.id, undefined);
  });

  it('executes an idempotent request once', async () => {
    const task = { route: 'bench', maxOutputTokens: 8, mode: 'async' };
    const headers = { 'idempotency-key': randomUUID() };
    const first = await call(platform, key('tenant-alpha'), 'POST', '/v1/tasks', task, headers);
    const second = await call(platform, key('tenant-alpha'), 'POST', '/v1/tasks', task, headers);
    assert.equal(first.status, 202);
    assert.equal(second.body.id, first.body.id);
  });

  it('hides a task from another tenant with 404', async () => {
    const task = { route: 'bench', maxOutputTokens: 8, mode: 'async' };
    const created = await call(platform, key('tenant-alpha'), 'POST', '/v1/tasks', task);
    const read = await call(
      platform,
      key('tenant-beta'),
      'GET',
      `/v1/tasks/${String(created.body.id)}`,
    );
    assert.equal(read.status, 404);
  });

  it('keeps tenant keys out of logs and metrics', async () => {
    await call(platform, key('tenant-beta'), 'POST', '/v1/tasks', {
      route: 'bench',
      maxOutputTokens: 8,
      mode: 'sync',
    });
    const metrics = await undiciRequest(`${platform.urls.gateway}/metrics`);
    const text = await metrics.body.text();
    for (const secret of keys.values()) {
      assert.equal(text.includes(secret), false);
      assert.equal(logs.join('').includes(secret), false);
    }
    assert.match(text, /scalegate_gateway_requests_total/);
  });

  it('records metrics of tasks run in worker processes', async function () {
    this.timeout(30_000);
    // tenant-batch runs no other task in this suite, so its counters move only here.
    // Time to first token has no tenant label: earlier tasks' samples, relayed every
    // 250 ms, must arrive before the counts are read.
    await waitForTerminal(platform, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const succeeded = { tenant: 'tenant-batch', route: 'bench', outcome: 'succeeded' };
    const requestsBefore = await metricSum(platform, 'scalegate_requests_total', succeeded);
    const waitsBefore = await metricSum(platform, 'scalegate_queue_wait_seconds_count', {
      priority: 'batch',
    });
    const firstTokensBefore = await metricSum(
      platform,
      'scalegate_time_to_first_token_seconds_count',
      { provider: 'instant' },
    );

    const task = { route: 'bench', maxOutputTokens: 8, mode: 'async' };
    const replies = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(platform, key('tenant-batch'), 'POST', '/v1/tasks', task),
      ),
    );
    assert.deepEqual(
      replies.map((reply) => reply.status),
      [202, 202, 202, 202, 202, 202],
    );

    const read = async () =>
      (await metricSum(platform, 'scalegate_requests_total', succeeded)) - requestsBefore;
    assert.equal(await waitForValue(read, 6, 15_000), 6);
    const waits =
      (await metricSum(platform, 'scalegate_queue_wait_seconds_count', { priority: 'batch' })) -
      waitsBefore;
    assert.equal(waits, 6);
    const firstTokens =
      (await metricSum(platform, 'scalegate_time_to_first_token_seconds_count', {
        provider: 'instant',
      })) - firstTokensBefore;
    assert.equal(firstTokens, 6);
  });

  it('accounts for every async task under faults', async function () {
    this.timeout(60_000);
    await setFaults(platform.urls.providers['provider-a'] ?? '', {
      errorRate: 0.4,
      errorStatus: 503,
    });
    await setFaults(platform.urls.providers['provider-b'] ?? '', {
      errorRate: 0.4,
      errorStatus: 500,
    });
    const before = await waitForTerminal(platform, 10_000);
    const task = { route: 'chat', maxOutputTokens: 8, forcedOutputTokens: 4, mode: 'async' };
    const replies = await Promise.all(
      Array.from({ length: 200 }, () =>
        call(platform, key('tenant-beta'), 'POST', '/v1/tasks', task),
      ),
    );
    assert.equal(replies.filter((reply) => reply.status === 202).length, 200);
    const counts = await waitForTerminal(platform, 45_000);
    assert.equal(counts.accepted - before.accepted, 200);
    assert.equal(counts.accepted, counts.succeeded + counts.failed + counts.dead_lettered);
    assert.equal(counts.queued + counts.running, 0);
    assert.ok(counts.succeeded - before.succeeded > 0);
  });
});
