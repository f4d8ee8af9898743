import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

import { systemClock } from '../../../src/platform/clock.js';
import { ALPHA_KEY, bearer, fakePlatform, SYNC_TASK } from './fake-platform.js';

/** Returns every series of the gateway's request counter as labels and value. */
async function requestCounts(registry: Registry) {
  const metric = registry.getSingleMetric('scalegate_gateway_requests_total');
  if (metric === undefined) return assert.fail('scalegate_gateway_requests_total not registered');
  const { values } = await metric.get();
  return values.map(({ labels, value }) => ({ labels, value }));
}

async function countOf(registry: Registry, method: string, route: string, status: number) {
  const series = await requestCounts(registry);
  const match = series.find(
    ({ labels }) =>
      labels.method === method &&
      labels.route === route &&
      String(labels.status) === String(status),
  );
  return match?.value ?? 0;
}

async function totalCount(registry: Registry): Promise<number> {
  const series = await requestCounts(registry);
  return series.reduce((sum, { value }) => sum + value, 0);
}

describe('gateway request metrics', () => {
  it('counts URL errors raised before routing', async () => {
    const { app, registry } = fakePlatform();
    const longId = await app.inject({
      method: 'GET',
      url: `/v1/tasks/${'a'.repeat(101)}`,
      headers: bearer(ALPHA_KEY),
    });
    assert.equal(longId.statusCode, 414);
    const badEncoding = await app.inject({
      method: 'GET',
      url: '/v1/tasks/%E0%A4%A',
      headers: bearer(ALPHA_KEY),
    });
    assert.equal(badEncoding.statusCode, 400);
    await systemClock.sleep(10);
    assert.equal(await countOf(registry, 'GET', 'rejected_before_routing', 414), 1);
    assert.equal(await countOf(registry, 'GET', 'rejected_before_routing', 400), 1);
    assert.equal(await countOf(registry, 'GET', 'unmatched', 414), 0);
    assert.equal(await countOf(registry, 'GET', 'unmatched', 400), 0);
    assert.equal(await totalCount(registry), 2);
  });

  it('exposes pre-routing and unmatched labels', async () => {
    const { app } = fakePlatform();
    const longId = await app.inject({ method: 'GET', url: `/v1/tasks/${'a'.repeat(101)}` });
    assert.equal(longId.statusCode, 414);
    const missing = await app.inject({ method: 'GET', url: '/nowhere' });
    assert.equal(missing.statusCode, 404);
    await systemClock.sleep(10);
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const rejected =
      'scalegate_gateway_requests_total{method="GET",route="rejected_before_routing",status="414"} 1';
    const unmatched =
      'scalegate_gateway_requests_total{method="GET",route="unmatched",status="404"} 1';
    assert.ok(text.includes(rejected), text);
    assert.ok(text.includes(unmatched), text);
  });

  it('counts routed responses once', async () => {
    const { app, registry } = fakePlatform();
    const sync = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: SYNC_TASK,
    });
    assert.equal(sync.statusCode, 200);
    const stream = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: { ...SYNC_TASK, stream: true },
    });
    assert.equal(stream.statusCode, 200);
    const missing = await app.inject({ method: 'GET', url: '/nowhere' });
    assert.equal(missing.statusCode, 404);
    const unauthorized = await app.inject({ method: 'POST', url: '/v1/tasks', payload: SYNC_TASK });
    assert.equal(unauthorized.statusCode, 401);
    await systemClock.sleep(10);
    assert.equal(await countOf(registry, 'POST', '/v1/tasks', 200), 2);
    assert.equal(await countOf(registry, 'GET', 'unmatched', 404), 1);
    assert.equal(await countOf(registry, 'POST', '/v1/tasks', 401), 1);
    assert.equal(await totalCount(registry), 4);
  });

  it('counts a sync request its client closed as 499', async () => {
    const platform = fakePlatform();
    let onCalled: () => void = () => undefined;
    const called = new Promise<void>((resolve) => {
      onCalled = resolve;
    });
    platform.router.behaviour = (input) =>
      new Promise((_resolve, reject) => {
        onCalled();
        input.signal?.addEventListener('abort', () => reject(input.signal?.reason));
      });
    await platform.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (platform.app.server.address() as AddressInfo).port;
      const post = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/tasks',
        headers: { ...bearer(ALPHA_KEY), 'content-type': 'application/json' },
      });
      post.on('error', () => undefined);
      post.end(JSON.stringify(SYNC_TASK));
      await called;
      post.destroy();
      for (let poll = 0; poll < 100; poll += 1) {
        if ((await totalCount(platform.registry)) > 0) break;
        await systemClock.sleep(20);
      }
      await systemClock.sleep(50);
      assert.equal(await countOf(platform.registry, 'POST', '/v1/tasks', 499), 1);
      assert.equal(await totalCount(platform.registry), 1);
    } finally {
      await platform.app.close();
    }
  });
});
