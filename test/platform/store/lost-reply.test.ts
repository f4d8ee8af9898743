import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { type FaultProxyHandle, startFaultProxy } from '../../../src/faults/proxy/index.js';
import { RedisTaskStore } from '../../../src/platform/store/index.js';

/** Sends one request to the fault proxy's API and returns the parsed reply. */
async function api(proxy: FaultProxyHandle, method: string, path: string, body?: unknown) {
  const response = await fetch(`${proxy.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
}

describe('Redis task store with a lost reply', function () {
  this.timeout(20_000);
  let proxy: FaultProxyHandle;
  let redis: Redis;
  let cleaner: Redis;
  let keyPrefix: string;

  beforeEach(async () => {
    keyPrefix = `test-lost-reply-${randomUUID()}`;
    proxy = await startFaultProxy({ port: 0 });
    const created = await api(proxy, 'POST', '/proxies', {
      name: 'redis',
      listen: '127.0.0.1:0',
      upstream: '127.0.0.1:6379',
    });
    const listen = String(created?.listen);
    const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
    // A fixed reconnect delay leaves time to lift the toxic before the client reconnects.
    redis = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 300 });
    cleaner = new Redis('redis://127.0.0.1:6379');
  });

  afterEach(async () => {
    redis.disconnect();
    await new RedisTaskStore({ redis: cleaner, keyPrefix }).clear();
    await cleaner.quit();
    await proxy.close();
  });

  it('stores a resent completion once', async () => {
    const store = new RedisTaskStore({ redis, keyPrefix });
    await store.create({
      id: 't1',
      tenantId: 'tenant-alpha',
      request: { route: 'chat', maxOutputTokens: 16, mode: 'async', priority: 'standard' },
      state: 'queued',
      createdAt: 1_000,
      deliveries: 0,
    });
    await store.markRunning('t1', 2_000);
    // Redis runs the completion, but its reply never reaches the client: the proxy keeps
    // it and closes the connection after 200 ms. The client reconnects and resends.
    await api(proxy, 'POST', '/proxies/redis/toxics', {
      name: 'hold_reply',
      type: 'timeout',
      stream: 'downstream',
      attributes: { timeout: 200 },
    });
    let closes = 0;
    redis.on('close', () => {
      closes += 1;
      if (closes === 1) void api(proxy, 'DELETE', '/proxies/redis/toxics/hold_reply');
    });

    const read = await store.completeAndRead('t1', { state: 'succeeded', finishedAt: 3_000 });
    assert.equal(closes, 1);
    assert.equal(read.stored, true);
    assert.equal(read.record?.state, 'succeeded');
    const counts = await store.accounting();
    assert.equal(counts.succeeded, 1);
    assert.equal(counts.running, 0);
  });
});
