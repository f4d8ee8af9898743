import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { Registry } from 'prom-client';

import {
  createPlatformMetrics,
  type PlatformMetrics,
} from '../../../src/platform/metrics/index.js';
import { type BullmqTaskQueue, createBullmqQueue } from '../../../src/platform/queue/index.js';
import { OwnRedisServer } from '../../support/redis-server.js';

async function sampleValue(
  metrics: PlatformMetrics,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric, `metric ${name} is registered`);
  const { values } = await metric.get();
  const match = values.find((entry) =>
    Object.entries(labels).every(([key, value]) => String(entry.labels[key]) === value),
  );
  return match?.value;
}

describe('createPlatformMetrics', () => {
  let metrics: PlatformMetrics;

  beforeEach(() => {
    metrics = createPlatformMetrics();
  });

  it('counts requests by tenant, route and outcome', async () => {
    const labels = { tenant: 'tenant-alpha', route: 'chat', outcome: 'succeeded' } as const;
    metrics.recordRequest(labels, 1.2);
    metrics.recordRequest(labels);
    assert.equal(await sampleValue(metrics, 'scalegate_requests_total', labels), 2);
    const count = await sampleValue(metrics, 'scalegate_request_duration_seconds', {
      route: 'chat',
      outcome: 'succeeded',
      le: '2',
    });
    assert.equal(count, 1);
  });

  it('observes queue wait and time to first token', async () => {
    metrics.observeQueueWait('batch', 0.3);
    metrics.observeTimeToFirstToken({ provider: 'provider-a', model: 'gpt-4o' }, 0.4);
    const wait = { priority: 'batch', le: '0.5' };
    assert.equal(await sampleValue(metrics, 'scalegate_queue_wait_seconds', wait), 1);
    const ttft = { provider: 'provider-a', model: 'gpt-4o', le: '0.35' };
    assert.equal(await sampleValue(metrics, 'scalegate_time_to_first_token_seconds', ttft), 0);
  });

  it('counts failovers by provider pair', async () => {
    metrics.recordFailover('provider-a', 'provider-b');
    metrics.recordFailover('provider-a', 'provider-b');
    const pair = { from_provider: 'provider-a', to_provider: 'provider-b' };
    assert.equal(await sampleValue(metrics, 'scalegate_failover_activations_total', pair), 2);
  });

  it('counts failed calls by error class', async () => {
    const model = { provider: 'provider-b', model: 'claude-sonnet' };
    metrics.recordAttempt(model, 'failed', 'status_429');
    metrics.recordAttempt(model, 'failed', 'status_429');
    metrics.recordAttempt(model, 'failed', 'status_5xx');
    metrics.recordAttempt(model, 'success');
    metrics.recordAttempt(model, 'aborted', 'aborted');
    const errors = (errorClass: string) =>
      sampleValue(metrics, 'scalegate_provider_errors_total', {
        ...model,
        error_class: errorClass,
      });
    assert.equal(await errors('status_429'), 2);
    assert.equal(await errors('status_5xx'), 1);
    assert.equal(await errors('aborted'), undefined);
    const failed = { ...model, outcome: 'failed' };
    assert.equal(await sampleValue(metrics, 'scalegate_provider_attempts_total', failed), 3);
  });

  it('counts fallback attempts by route pair', async () => {
    const labels = { route: 'chat', fallbackRoute: 'backup' };
    metrics.recordFallbackAttempt(labels, 'success');
    metrics.recordFallbackAttempt(labels, 'success');
    metrics.recordFallbackAttempt(labels, 'failed');
    const series = (outcome: string) =>
      sampleValue(metrics, 'scalegate_fallback_route_attempts_total', {
        route: 'chat',
        fallback_route: 'backup',
        outcome,
      });
    assert.equal(await series('success'), 2);
    assert.equal(await series('failed'), 1);
  });

  it('maps breaker states to 0, 1 and 2', async () => {
    const model = { provider: 'provider-b', model: 'claude-sonnet' };
    const expected = { closed: 0, 'half-open': 1, open: 2 } as const;
    for (const [state, value] of Object.entries(expected)) {
      metrics.setBreakerState(model, state as keyof typeof expected);
      assert.equal(await sampleValue(metrics, 'scalegate_breaker_state', model), value);
    }
  });

  it('sets queue depth and oldest age in seconds', async () => {
    metrics.setQueueGauges('tasks', { depth: 42, oldestAgeMs: 2500 });
    assert.equal(await sampleValue(metrics, 'scalegate_queue_depth', { queue: 'tasks' }), 42);
    const age = await sampleValue(metrics, 'scalegate_queue_oldest_age_seconds', {
      queue: 'tasks',
    });
    assert.equal(age, 2.5);
  });

  it('counts rejections by tenant and reason', async () => {
    metrics.recordRejection('tenant-noisy', 'requests_per_minute');
    const labels = { tenant: 'tenant-noisy', reason: 'requests_per_minute' };
    assert.equal(await sampleValue(metrics, 'scalegate_admission_rejections_total', labels), 1);
  });

  it('adds cost by tenant and route', async () => {
    metrics.recordCost('tenant-beta', 'chat', 0.012);
    metrics.recordCost('tenant-beta', 'chat', 0.008);
    metrics.recordCost('tenant-beta', 'chat', Number.NaN);
    const total = await sampleValue(metrics, 'scalegate_cost_usd_total', {
      tenant: 'tenant-beta',
      route: 'chat',
    });
    assert.ok(total !== undefined);
    assert.ok(Math.abs(total - 0.02) < 1e-12, `total ${total}`);
  });

  it('adds cost to the exact decimal', async () => {
    // prom-client alone would sum these to 0.0006575000000000001.
    metrics.recordCost('tenant-alpha', 'chat', 0.0003375);
    metrics.recordCost('tenant-alpha', 'chat', 0.00032);
    metrics.recordCost('tenant-alpha', 'summarize', 0.00032);
    const labels = { tenant: 'tenant-alpha', route: 'chat' };
    assert.equal(await sampleValue(metrics, 'scalegate_cost_usd_total', labels), 0.0006575);
    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /\nscalegate_cost_usd_total\{tenant="tenant-alpha",route="chat"\} 0\.0006575\n/,
    );
    assert.match(
      text,
      /\nscalegate_cost_usd_total\{tenant="tenant-alpha",route="summarize"\} 0\.00032\n/,
    );
  });

  it('adds token cost exactly', async () => {
    metrics.recordCost('tenant-alpha', 'chat', 0.0009, 0.0003375);
    metrics.recordCost('tenant-alpha', 'chat', 0.0004, 0.00032);
    // A task whose cost is all executor adds no token cost.
    metrics.recordCost('tenant-alpha', 'chat', 0.0001, 0);
    const labels = { tenant: 'tenant-alpha', route: 'chat' };
    assert.equal(await sampleValue(metrics, 'scalegate_token_cost_usd_total', labels), 0.0006575);
    assert.equal(await sampleValue(metrics, 'scalegate_cost_usd_total', labels), 0.0014);
  });

  it('registers on a given registry', async () => {
    const registry = new Registry();
    createPlatformMetrics(registry).recordRejection('tenant-alpha', 'budget');
    const text = await registry.metrics();
    assert.match(
      text,
      /scalegate_admission_rejections_total\{tenant="tenant-alpha",reason="budget"\} 1/,
    );
  });

  it('keeps the last sample when a gauge read hangs', async () => {
    metrics = createPlatformMetrics(new Registry(), { queueGaugeTimeoutMs: 100 });
    let reads = 0;
    let finishRead: (gauges: { depth: number; oldestAgeMs: number }) => void = () => undefined;
    metrics.setQueueGaugeSource('tasks', async () => {
      reads += 1;
      if (reads === 1) return { depth: 3, oldestAgeMs: 1000 };
      return new Promise((resolve) => {
        finishRead = resolve;
      });
    });
    await metrics.sampleQueues();

    const started = Date.now();
    assert.equal(await sampleValue(metrics, 'scalegate_queue_depth', { queue: 'tasks' }), 3);
    assert.ok(Date.now() - started < 2000, `the scrape took ${Date.now() - started} ms`);
    const timeouts = { queue: 'tasks', reason: 'timeout' };
    const failures = 'scalegate_queue_gauge_read_failures_total';
    assert.equal(await sampleValue(metrics, failures, timeouts), 1);
    // A second scrape waits for the hung read instead of starting another.
    await metrics.sampleQueues();
    assert.equal(reads, 2);
    assert.equal(await sampleValue(metrics, failures, timeouts), 2);

    // The hung read ends after the time limit of the sample that started it, so it is dropped.
    finishRead({ depth: 7, oldestAgeMs: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    await metrics.sampleQueues();
    assert.equal(reads, 3);
    assert.equal(await sampleValue(metrics, 'scalegate_queue_depth', { queue: 'tasks' }), 3);
  });

  it('shows its own read after a late one', async () => {
    metrics = createPlatformMetrics(new Registry(), { queueGaugeTimeoutMs: 100 });
    const reads: Array<(gauges: { depth: number; oldestAgeMs: number }) => void> = [];
    metrics.setQueueGaugeSource(
      'tasks',
      () =>
        new Promise((resolve) => {
          reads.push(resolve);
        }),
    );
    const first = metrics.sampleQueues();
    reads[0]?.({ depth: 3, oldestAgeMs: 1000 });
    await first;
    await metrics.sampleQueues();
    assert.equal(reads.length, 2);

    // This sample waits for the late second read, then starts its own.
    const third = metrics.sampleQueues();
    reads[1]?.({ depth: 7, oldestAgeMs: 7000 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reads.length, 3);
    reads[2]?.({ depth: 9, oldestAgeMs: 9000 });
    await third;
    const timeouts = { queue: 'tasks', reason: 'timeout' };
    const failures = 'scalegate_queue_gauge_read_failures_total';
    assert.equal(await sampleValue(metrics, failures, timeouts), 1);
    // Each gauge read below samples again, and that read hangs, so the gauges keep the third's.
    const labels = { queue: 'tasks' };
    assert.equal(await sampleValue(metrics, 'scalegate_queue_depth', labels), 9);
    assert.equal(await sampleValue(metrics, 'scalegate_queue_oldest_age_seconds', labels), 9);
  });

  it('drops a task count read that ends late', async () => {
    metrics = createPlatformMetrics(new Registry(), { queueGaugeTimeoutMs: 100 });
    const reads: Array<(queued: number) => void> = [];
    metrics.setTaskCountSource(
      () =>
        new Promise((resolve) => {
          reads.push((queued) =>
            resolve({ queued, running: 0, succeeded: 0, failed: 0, dead_lettered: 0 }),
          );
        }),
    );
    const labels = { state: 'queued' };
    const first = sampleValue(metrics, 'scalegate_tasks', labels);
    reads[0]?.(4);
    assert.equal(await first, 4);
    assert.equal(await sampleValue(metrics, 'scalegate_tasks', labels), 4);
    assert.equal(reads.length, 2);

    reads[1]?.(6);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await sampleValue(metrics, 'scalegate_tasks', labels), 4);
    assert.equal(reads.length, 3);
  });

  it('counts a failed gauge read as error', async () => {
    metrics.setQueueGaugeSource('tasks', async () => {
      throw new Error('connection closed');
    });
    await metrics.sampleQueues();
    const labels = { queue: 'tasks', reason: 'error' };
    assert.equal(
      await sampleValue(metrics, 'scalegate_queue_gauge_read_failures_total', labels),
      1,
    );
  });

  it('sets the task gauge by state', async () => {
    const counts = { queued: 4, running: 2, succeeded: 9, failed: 1, dead_lettered: 3 };
    metrics.setTaskCountSource(async () => counts);
    for (const [state, count] of Object.entries(counts)) {
      assert.equal(await sampleValue(metrics, 'scalegate_tasks', { state }), count, state);
    }
  });

  it('reads the task counts on each scrape', async () => {
    let succeeded = 0;
    metrics.setTaskCountSource(async () => {
      succeeded += 1;
      return { queued: 0, running: 0, succeeded, failed: 0, dead_lettered: 0 };
    });
    const labels = { state: 'succeeded' };
    assert.equal(await sampleValue(metrics, 'scalegate_tasks', labels), 1);
    assert.equal(await sampleValue(metrics, 'scalegate_tasks', labels), 2);
  });

  it('keeps the task counts when a read fails', async () => {
    let fail = false;
    metrics.setTaskCountSource(async () => {
      if (fail) throw new Error('connection closed');
      return { queued: 5, running: 0, succeeded: 0, failed: 0, dead_lettered: 0 };
    });
    assert.equal(await sampleValue(metrics, 'scalegate_tasks', { state: 'queued' }), 5);
    fail = true;
    assert.equal(await sampleValue(metrics, 'scalegate_tasks', { state: 'queued' }), 5);
    const failures = 'scalegate_task_count_read_failures_total';
    assert.equal(await sampleValue(metrics, failures, { reason: 'error' }), 1);
  });

  it('times out a hung task count read', async () => {
    metrics = createPlatformMetrics(new Registry(), { queueGaugeTimeoutMs: 100 });
    metrics.setTaskCountSource(() => new Promise(() => undefined));
    const started = Date.now();
    assert.equal(await sampleValue(metrics, 'scalegate_tasks', { state: 'queued' }), undefined);
    assert.ok(Date.now() - started < 2000, `the scrape took ${Date.now() - started} ms`);
    const failures = 'scalegate_task_count_read_failures_total';
    assert.equal(await sampleValue(metrics, failures, { reason: 'timeout' }), 1);
  });

  it('starts task count read failures at 0', async () => {
    const registry = new Registry();
    createPlatformMetrics(registry);
    const text = await registry.metrics();
    assert.match(text, /^scalegate_task_count_read_failures_total\{reason="error"\} 0$/m);
    assert.match(text, /^scalegate_task_count_read_failures_total\{reason="timeout"\} 0$/m);
  });

  it('starts tenant usage read failures at 0', async () => {
    const registry = new Registry();
    createPlatformMetrics(registry);
    const text = await registry.metrics();
    assert.match(text, /^scalegate_tenant_usage_read_failures_total\{reason="error"\} 0$/m);
    assert.match(text, /^scalegate_tenant_usage_read_failures_total\{reason="timeout"\} 0$/m);
  });

  it('starts queue read failures at 0 with their source', async () => {
    const registry = new Registry();
    const created = createPlatformMetrics(registry);
    const failures = /^scalegate_queue_gauge_read_failures_total\{/m;
    assert.doesNotMatch(await registry.metrics(), failures);
    created.setQueueGaugeSource('tasks', async () => ({ depth: 0, oldestAgeMs: 0 }));
    const text = await registry.metrics();
    assert.match(
      text,
      /^scalegate_queue_gauge_read_failures_total\{queue="tasks",reason="error"\} 0$/m,
    );
    assert.match(
      text,
      /^scalegate_queue_gauge_read_failures_total\{queue="tasks",reason="timeout"\} 0$/m,
    );
  });

  it('keeps queue read failures when the source changes', async () => {
    metrics.setQueueGaugeSource('tasks', async () => {
      throw new Error('connection closed');
    });
    await metrics.sampleQueues();
    metrics.setQueueGaugeSource('tasks', async () => ({ depth: 0, oldestAgeMs: 0 }));
    const failures = 'scalegate_queue_gauge_read_failures_total';
    assert.equal(await sampleValue(metrics, failures, { queue: 'tasks', reason: 'error' }), 1);
    assert.equal(await sampleValue(metrics, failures, { queue: 'tasks', reason: 'timeout' }), 0);
  });

  it('rejects a queueGaugeTimeoutMs of 0', () => {
    assert.throws(() => createPlatformMetrics(new Registry(), { queueGaugeTimeoutMs: 0 }), {
      name: 'RangeError',
      message: /queueGaugeTimeoutMs must be a positive number of ms, got 0/,
    });
  });
});

describe('queue gauges with Redis paused', function () {
  this.timeout(30_000);
  let redis: OwnRedisServer;
  let queue: BullmqTaskQueue<null>;

  before(async () => {
    redis = await OwnRedisServer.start();
    const suffix = randomBytes(6).toString('hex');
    queue = createBullmqQueue<null>({
      name: `gauges-${suffix}`,
      prefix: `sgtest-${suffix}`,
      connection: redis.url,
    });
  });

  after(async () => {
    redis.resume();
    await queue.close();
    await redis.kill();
  });

  it('scrapes within the read timeout and recovers', async () => {
    const registry = new Registry();
    const metrics = createPlatformMetrics(registry, { queueGaugeTimeoutMs: 1000 });
    metrics.setQueueGaugeSource('tasks', () => queue.gauges());
    await queue.enqueue('task-1', null);
    await metrics.sampleQueues();
    assert.match(await registry.metrics(), /^scalegate_queue_depth\{queue="tasks"\} 1$/m);

    redis.pause();
    const started = Date.now();
    const text = await registry.metrics();
    const elapsedMs = Date.now() - started;
    assert.ok(elapsedMs < 5000, `the scrape took ${elapsedMs} ms with Redis paused`);
    assert.match(text, /^scalegate_queue_depth\{queue="tasks"\} 1$/m);
    // The scrape serialises the counter alongside the gauge reads, so it shows the count later.
    const failures = 'scalegate_queue_gauge_read_failures_total';
    assert.match(
      await registry.getSingleMetricAsString(failures),
      /^scalegate_queue_gauge_read_failures_total\{queue="tasks",reason="timeout"\} 1$/m,
    );

    redis.resume();
    await queue.enqueue('task-2', null);
    await metrics.sampleQueues();
    assert.match(await registry.metrics(), /^scalegate_queue_depth\{queue="tasks"\} 2$/m);
  });
});
