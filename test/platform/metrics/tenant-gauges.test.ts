import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';

import { periodAt } from '../../../src/platform/admission/budget-period.js';
import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import { RedisAdmissionBackend } from '../../../src/platform/admission/redis-backend.js';
import type {
  AdmissionBackend,
  TenantUsage,
  UsageTenant,
} from '../../../src/platform/admission/types.js';
import { createPlatformMetrics } from '../../../src/platform/metrics/index.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { wireTenantUsage } from '../../../src/platform/runtime/metrics-wiring.js';
import { hashApiKey } from '../../../src/platform/tenants/api-key.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { createManualClock } from '../admission/fake-clock.js';
import { ALPHA_KEY, BETA_KEY, fakePlatform, testTenant } from '../gateway/fake-platform.js';
import { freePort, OwnRedisServer } from '../../support/redis-server.js';
import { postTask, sample, scrape as scrapeUrl } from '../runtime/platform-support.js';

const ALPHA = testTenant('tenant-alpha', ALPHA_KEY, { budgetUsd: 10 });
const DAILY = testTenant('tenant-daily', BETA_KEY, { budgetUsd: 2, budgetPeriod: 'day' });
const TENANTS = [ALPHA, DAILY];

const GAUGES = ['scalegate_tenant_budget_usd', 'scalegate_tenant_spend_usd'];

interface Scraped {
  app: FastifyInstance;
  logs: string[];
}

/**
 * Builds a gateway whose `/metrics` has the tenant gauges of `admission`, with a read time
 * limit of `timeoutMs`, and a logger that keeps its lines.
 */
function gatewayOver(admission: Pick<AdmissionBackend, 'usageOf'>, timeoutMs = 1000): Scraped {
  const platform = fakePlatform({ tenants: TENANTS });
  const metrics = createPlatformMetrics(platform.registry, { queueGaugeTimeoutMs: timeoutMs });
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  wireTenantUsage(admission, TENANTS, metrics, pino(stream));
  return { app: platform.app, logs };
}

/** Returns the `/metrics` text, asserting a 200. */
async function scrape(app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 200);
  return response.body;
}

/** Returns the sample lines of one metric, such as `name{tenant="a",period="total"} 0.5`. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`));
}

/** Admits 0.5 and settles it at 0.25, then leaves a reservation of 0.125 open. */
async function spendAndReserve(admission: AdmissionBackend): Promise<void> {
  const settled = await admission.admit({ tenant: ALPHA, tokens: 10, maxCostUsd: 0.5 });
  assert.ok(settled.admitted);
  await admission.settle(settled.ticket, { run: 1, spentUsd: 0.25 });
  const open = await admission.admit({ tenant: ALPHA, tokens: 10, maxCostUsd: 0.125 });
  assert.ok(open.admitted);
}

/** The gauge lines after `spendAndReserve`, by metric name. */
const EXPECTED: Record<string, string[]> = {
  scalegate_tenant_budget_usd: [
    'scalegate_tenant_budget_usd{tenant="tenant-alpha",period="total"} 10',
    'scalegate_tenant_budget_usd{tenant="tenant-daily",period="day"} 2',
  ],
  scalegate_tenant_spend_usd: [
    'scalegate_tenant_spend_usd{tenant="tenant-alpha",period="total"} 0.25',
    'scalegate_tenant_spend_usd{tenant="tenant-daily",period="day"} 0',
  ],
  scalegate_tenant_reserved_usd: [
    'scalegate_tenant_reserved_usd{tenant="tenant-alpha",period="total"} 0.125',
    'scalegate_tenant_reserved_usd{tenant="tenant-daily",period="day"} 0',
  ],
};

describe('tenant gauges on the memory backend', () => {
  it('shows spend and reservations', async () => {
    const admission = new MemoryAdmissionBackend();
    const { app } = gatewayOver(admission);
    await spendAndReserve(admission);
    const text = await scrape(app);
    for (const [name, lines] of Object.entries(EXPECTED)) {
      assert.deepEqual(samples(text, name), lines, name);
    }
    await app.close();
  });

  it('reads day spend 0 after the day boundary', async () => {
    const clock = createManualClock(periodAt('day', Date.now()).endMs - 1);
    const admission = new MemoryAdmissionBackend({ clock });
    const { app } = gatewayOver(admission);
    const ticket = await admission.admit({ tenant: DAILY, tokens: 10, maxCostUsd: 0.5 });
    assert.ok(ticket.admitted);
    await admission.settle(ticket.ticket, { run: 1, spentUsd: 0.75 });
    const spend = 'scalegate_tenant_spend_usd';
    assert.deepEqual(samples(await scrape(app), spend), [
      'scalegate_tenant_spend_usd{tenant="tenant-alpha",period="total"} 0',
      'scalegate_tenant_spend_usd{tenant="tenant-daily",period="day"} 0.75',
    ]);
    clock.tick(1);
    const text = await scrape(app);
    assert.deepEqual(samples(text, spend), [
      'scalegate_tenant_spend_usd{tenant="tenant-alpha",period="total"} 0',
      'scalegate_tenant_spend_usd{tenant="tenant-daily",period="day"} 0',
    ]);
    assert.deepEqual(samples(text, 'scalegate_tenant_budget_usd'), [
      'scalegate_tenant_budget_usd{tenant="tenant-alpha",period="total"} 10',
      'scalegate_tenant_budget_usd{tenant="tenant-daily",period="day"} 2',
    ]);
    await app.close();
  });

  it('shows no API key or key hash', async () => {
    const admission = new MemoryAdmissionBackend();
    const { app } = gatewayOver(admission);
    await spendAndReserve(admission);
    const text = await scrape(app);
    assert.equal(samples(text, 'scalegate_tenant_spend_usd').length, 2);
    for (const secret of [ALPHA_KEY, BETA_KEY, hashApiKey(ALPHA_KEY), hashApiKey(BETA_KEY)]) {
      assert.equal(text.includes(secret), false, `/metrics contains ${secret.slice(0, 6)}...`);
    }
    await app.close();
  });
});

/** Usage reads that end when the test ends them, each with one spend for every tenant. */
class ControlledUsage implements Pick<AdmissionBackend, 'usageOf'> {
  readonly reads: Array<(spentUsd: number) => void> = [];

  usageOf(tenants: readonly UsageTenant[]): Promise<TenantUsage[]> {
    return new Promise((resolve) => {
      this.reads.push((spentUsd) =>
        resolve(tenants.map(() => ({ inFlight: 0, reservedUsd: 0, spentUsd }))),
      );
    });
  }
}

/** Returns the spend lines of both tenants when each spent `usd`. */
function spendLines(usd: number): string[] {
  return [
    `scalegate_tenant_spend_usd{tenant="tenant-alpha",period="total"} ${usd}`,
    `scalegate_tenant_spend_usd{tenant="tenant-daily",period="day"} ${usd}`,
  ];
}

describe('tenant gauges with a slow usage read', () => {
  const spend = 'scalegate_tenant_spend_usd';

  it('shows its own read after a late one', async () => {
    const usage = new ControlledUsage();
    // The second scrape's 1 s limit leaves room for the 20 ms wait on a loaded machine.
    const { app } = gatewayOver(usage, 1000);
    const first = await scrape(app);
    assert.deepEqual(samples(first, spend), []);
    assert.equal(usage.reads.length, 1);

    // The second scrape waits for the late first read, then starts its own.
    const second = scrape(app);
    await new Promise((resolve) => setTimeout(resolve, 20));
    usage.reads[0]?.(1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(usage.reads.length, 2);
    usage.reads[1]?.(2);
    assert.deepEqual(samples(await second, spend), spendLines(2));
    await app.close();
  });

  it('never shows a late read later', async () => {
    const usage = new ControlledUsage();
    const { app } = gatewayOver(usage, 100);
    assert.deepEqual(samples(await scrape(app), spend), []);
    // The first read is still in flight, so the second scrape starts no read of its own.
    assert.deepEqual(samples(await scrape(app), spend), []);
    assert.equal(usage.reads.length, 1);

    usage.reads[0]?.(1);
    await new Promise((resolve) => setImmediate(resolve));
    const third = await scrape(app);
    assert.equal(usage.reads.length, 2);
    assert.deepEqual(samples(third, spend), []);
    assert.deepEqual(samples(third, 'scalegate_tenant_budget_usd'), []);
    assert.deepEqual(samples(third, 'scalegate_tenant_reserved_usd'), []);
    // A scrape serialises the counter before its own read, so it shows the first three failures.
    const failures = await scrape(app);
    assert.match(failures, /^scalegate_tenant_usage_read_failures_total\{reason="timeout"\} 3$/m);
    assert.equal(usage.reads.length, 2);

    usage.reads[1]?.(3);
    const fifth = scrape(app);
    await new Promise((resolve) => setImmediate(resolve));
    usage.reads[2]?.(4);
    assert.deepEqual(samples(await fifth, spend), spendLines(4));
    await app.close();
  });
});

describe('tenant gauges on 127.0.0.1:6379', () => {
  let redis: Redis;
  let keyPrefix: string;
  let admission: RedisAdmissionBackend;

  before(() => {
    redis = new Redis(6379, '127.0.0.1');
  });

  beforeEach(() => {
    keyPrefix = `test:tenant-gauges:${randomUUID()}:`;
    admission = new RedisAdmissionBackend({ redis, keyPrefix });
  });

  afterEach(async () => {
    await admission.clear();
    assert.deepEqual(await redis.keys(`${keyPrefix}*`), []);
  });

  after(async () => {
    await redis.quit();
  });

  it('shows spend and reservations', async () => {
    const { app } = gatewayOver(admission);
    await spendAndReserve(admission);
    const text = await scrape(app);
    for (const [name, lines] of Object.entries(EXPECTED)) {
      assert.deepEqual(samples(text, name), lines, name);
    }
    await app.close();
  });
});

describe('tenant gauges with Redis paused', function () {
  this.timeout(30_000);
  let server: OwnRedisServer;
  let admission: RedisAdmissionBackend;

  before(async () => {
    server = await OwnRedisServer.start();
  });

  beforeEach(() => {
    admission = new RedisAdmissionBackend({
      port: server.port,
      keyPrefix: `test:tenant-gauges:${randomUUID()}:`,
    });
  });

  afterEach(async () => {
    server.resume();
    await admission.clear();
    await admission.close();
  });

  after(async () => {
    server.resume();
    await server.kill();
  });

  it('leaves the gauges out and recovers', async () => {
    const { app, logs } = gatewayOver(admission, 200);
    await spendAndReserve(admission);
    assert.equal(samples(await scrape(app), 'scalegate_tenant_spend_usd').length, 2);

    server.pause();
    const started = Date.now();
    const paused = await scrape(app);
    const elapsedMs = Date.now() - started;
    assert.ok(elapsedMs < 5000, `the scrape took ${elapsedMs} ms with Redis paused`);
    for (const name of GAUGES) assert.deepEqual(samples(paused, name), [], name);
    assert.deepEqual(samples(paused, 'scalegate_tenant_reserved_usd'), []);
    assert.match(paused, /^scalegate_gateway_requests_total\{/m);
    await scrape(app);
    // A scrape serialises the counter before its own read fails, so it shows the earlier two.
    const failures = await scrape(app);
    assert.match(failures, /^scalegate_tenant_usage_read_failures_total\{reason="timeout"\} 2$/m);
    const warnings = logs.filter((line) => line.includes('reading tenant usage'));
    assert.equal(warnings.length, 1, warnings.join(''));

    server.resume();
    const resumed = await scrape(app);
    for (const [name, lines] of Object.entries(EXPECTED)) {
      assert.deepEqual(samples(resumed, name), lines, name);
    }
    await app.close();
  });
});

describe('tenant gauges with Redis unreachable', () => {
  let connection: Redis;

  beforeEach(async () => {
    // Nothing listens on the port, and a failed command errors at once instead of waiting.
    connection = new Redis(await freePort(), '127.0.0.1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    connection.on('error', () => undefined);
  });

  afterEach(() => {
    connection.disconnect();
  });

  it('leaves the gauges out with an error', async () => {
    const admission = new RedisAdmissionBackend({ redis: connection, keyPrefix: 'unused:' });
    const { app, logs } = gatewayOver(admission, 200);
    const text = await scrape(app);
    for (const name of GAUGES) assert.deepEqual(samples(text, name), [], name);
    assert.deepEqual(samples(text, 'scalegate_tenant_reserved_usd'), []);
    // A scrape serialises the counter before its own read fails, so it shows the first one.
    const failures = await scrape(app);
    assert.match(failures, /^scalegate_tenant_usage_read_failures_total\{reason="error"\} 1$/m);
    assert.equal(logs.filter((line) => line.includes('reading tenant usage')).length, 1);
    await app.close();
  });
});

describe('tenant gauges of a platform on 127.0.0.1:6379', function () {
  this.timeout(60_000);
  let keyPrefix: string;
  let redis: Redis;
  let platform: Platform | undefined;

  beforeEach(() => {
    keyPrefix = `test-tenant-gauges-${randomUUID()}`;
    redis = new Redis(6379, '127.0.0.1');
  });

  afterEach(async () => {
    await platform?.stop({ drainTimeoutMs: 500, purge: true });
    platform = undefined;
    assert.deepEqual(await redis.keys(`${keyPrefix}*`), []);
    await redis.quit();
  });

  it('shows the spend of a finished task', async () => {
    platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      workerProcesses: 1,
      faultProxy: false,
      redisUrl: 'redis://127.0.0.1:6379',
      keyPrefix,
    });
    const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    const task = { route: 'chat', maxOutputTokens: 4, mode: 'sync' };
    assert.equal((await postTask(platform.urls.gateway, key, task)).status, 200);
    const admission = new RedisAdmissionBackend({ redis, keyPrefix: `${keyPrefix}:admission:` });
    const { spentUsd } = await admission.usage({ id: 'tenant-alpha' });
    assert.ok(spentUsd > 0, `tenant-alpha spent ${spentUsd}`);
    const text = await scrapeUrl(platform.urls.gateway);
    const labels = 'tenant="tenant-alpha",period="total"';
    assert.equal(sample(text, 'scalegate_tenant_spend_usd', labels), spentUsd);
    assert.equal(sample(text, 'scalegate_tenant_reserved_usd', labels), 0);
    assert.equal(sample(text, 'scalegate_tenant_budget_usd', labels), 2000);
  });
});
