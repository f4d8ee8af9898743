import assert from 'node:assert/strict';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import {
  clearFaults,
  getJson,
  postTask,
  sample,
  scrape,
  setFaults,
  waitFor,
} from './platform-support.js';

const QUICK = { route: 'bench', maxOutputTokens: 8, forcedOutputTokens: 1 };

describe('startPlatform metrics and failures', () => {
  let platform: Platform;
  let alpha: string;
  let noisy: string;

  before(async function () {
    this.timeout(30_000);
    const keys = await loadDemoKeys();
    alpha = keys.get('tenant-alpha') ?? '';
    noisy = keys.get('tenant-noisy') ?? '';
    platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: '',
    });
  });

  afterEach(async () => {
    for (const url of Object.values(platform.urls.providers)) await clearFaults(url);
  });

  after(async () => {
    await platform.stop({ drainTimeoutMs: 200 });
  });

  it('samples the queue gauges on scrape', async function () {
    this.timeout(20_000);
    const long = { ...QUICK, mode: 'async', toolWaitMs: 1_500 };
    const first = await postTask(platform.urls.gateway, alpha, long);
    await waitFor(
      async () =>
        (await platform.store.get('tenant-alpha', String(first.json.id)))?.state === 'running',
      5_000,
    );
    await postTask(platform.urls.gateway, alpha, long);
    const text = await scrape(platform.urls.gateway);
    assert.equal(sample(text, 'scalegate_queue_depth', 'queue="tasks"'), 1);
    const age = sample(text, 'scalegate_queue_oldest_age_seconds', 'queue="tasks"') ?? -1;
    assert.ok(age >= 0, `oldest age ${age}`);
    assert.ok(age < 1.5, `oldest age ${age}`);
    await waitFor(async () => (await platform.store.accounting()).running === 0, 10_000);
  });

  it('observes queue wait when a consumer starts a task', async function () {
    this.timeout(20_000);
    const before = await scrape(platform.urls.gateway);
    const count = (text: string) =>
      sample(text, 'scalegate_queue_wait_seconds_count', 'priority="batch"') ?? 0;
    const reply = await postTask(platform.urls.gateway, alpha, {
      ...QUICK,
      mode: 'async',
      priority: 'batch',
    });
    await waitFor(
      async () =>
        (await platform.store.get('tenant-alpha', String(reply.json.id)))?.state === 'succeeded',
      10_000,
    );
    assert.equal(count(await scrape(platform.urls.gateway)) - count(before), 1);
  });

  it('observes time to first token of a finished task', async function () {
    this.timeout(10_000);
    const reply = await postTask(platform.urls.gateway, alpha, { ...QUICK, mode: 'sync' });
    assert.equal(reply.status, 200);
    const text = await scrape(platform.urls.gateway);
    const labels = 'provider="instant",model="instant"';
    assert.ok((sample(text, 'scalegate_time_to_first_token_seconds_count', labels) ?? 0) >= 1);
  });

  it('counts a tenant-limit rejection with its reason', async function () {
    this.timeout(10_000);
    const big = { route: 'bench', inputTokens: 150_000, maxOutputTokens: 8, forcedOutputTokens: 1 };
    const first = await postTask(platform.urls.gateway, noisy, { ...big, mode: 'sync' });
    assert.equal(first.status, 200);
    const second = await postTask(platform.urls.gateway, noisy, { ...big, mode: 'sync' });
    assert.equal(second.status, 429);
    const text = await scrape(platform.urls.gateway);
    const labels = 'tenant="tenant-noisy",reason="tokens_per_minute"';
    assert.equal(sample(text, 'scalegate_admission_rejections_total', labels), 1);
  });

  it('returns 413 for a request over the token bucket', async () => {
    const reply = await postTask(platform.urls.gateway, noisy, {
      route: 'bench',
      inputTokens: 300_000,
      maxOutputTokens: 8,
      mode: 'sync',
    });
    assert.equal(reply.status, 413);
    assert.equal(reply.headers['retry-after'], undefined);
    const error = reply.json.error as { code: string; message: string };
    assert.equal(error.code, 'request_exceeds_tenant_limit');
    assert.match(error.message, /needs 300008 tokens/);
    assert.match(error.message, /tokens_per_minute limit of 240000 for tenant tenant-noisy/);
  });

  it('starts every breaker gauge closed', async () => {
    const text = await scrape(platform.urls.gateway);
    assert.equal(
      sample(text, 'scalegate_breaker_state', 'provider="provider-a",model="gpt-4o"'),
      0,
    );
  });

  it('counts a repeat on the same provider as a retry, not a failover', async function () {
    this.timeout(20_000);
    await setFaults(platform.urls.providers.instant, { errorRate: 1, errorStatus: 503 });
    const reply = await postTask(platform.urls.gateway, alpha, { ...QUICK, mode: 'sync' });
    assert.equal(reply.status, 502);
    const text = await scrape(platform.urls.gateway);
    const self = 'from_provider="instant",to_provider="instant"';
    assert.equal(sample(text, 'scalegate_failover_activations_total', self), undefined);
    assert.equal(sample(text, 'scalegate_provider_retries_total', 'provider="instant"'), 2);
  });

  it('sets the breaker gauge to open after repeated failures', async function () {
    this.timeout(20_000);
    await setFaults(platform.urls.providers.instant, { errorRate: 1, errorStatus: 503 });
    for (let i = 0; i < 4; i += 1) {
      await postTask(platform.urls.gateway, alpha, { ...QUICK, mode: 'sync' });
    }
    const text = await scrape(platform.urls.gateway);
    assert.equal(sample(text, 'scalegate_breaker_state', 'provider="instant",model="instant"'), 2);
  });

  it('lists every attempt of a failed task', async function () {
    this.timeout(20_000);
    for (const name of ['provider-a', 'provider-b']) {
      await setFaults(platform.urls.providers[name], { errorRate: 1, errorStatus: 500 });
    }
    const reply = await postTask(platform.urls.gateway, alpha, {
      route: 'chat',
      maxOutputTokens: 8,
      mode: 'async',
    });
    const url = `${platform.urls.gateway}/v1/tasks/${String(reply.json.id)}`;
    let view: Record<string, unknown> = {};
    await waitFor(async () => {
      view = await getJson(url, alpha);
      return view.state === 'failed' || view.state === 'dead_lettered';
    }, 15_000);
    const error = view.error as { message: string; attempts: { provider: string }[] };
    assert.match(
      error.message,
      /attempts: provider-a\/gpt-4o: status_5xx, provider-b\/claude-sonnet: status_5xx/,
    );
    assert.deepEqual(
      error.attempts.map((attempt) => attempt.provider),
      ['provider-a', 'provider-b', 'provider-a'],
    );
  });

  it('passes the upstream Retry-After through when every candidate is rate limited', async function () {
    this.timeout(20_000);
    for (const name of ['provider-a', 'provider-b']) {
      const faults = { errorRate: 1, errorStatus: 429, retryAfterSeconds: 7 };
      await setFaults(platform.urls.providers[name], faults);
    }
    const reply = await postTask(platform.urls.gateway, alpha, {
      route: 'chat',
      maxOutputTokens: 8,
      mode: 'sync',
    });
    assert.equal(reply.status, 503);
    assert.equal((reply.json.error as { code: string }).code, 'upstream_rate_limited');
    assert.equal(reply.headers['retry-after'], '7');
  });
});
