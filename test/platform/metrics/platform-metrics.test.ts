import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import {
  createPlatformMetrics,
  type PlatformMetrics,
} from '../../../src/platform/metrics/index.js';

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

  it('registers on a given registry', async () => {
    const registry = new Registry();
    createPlatformMetrics(registry).recordRejection('tenant-alpha', 'budget');
    const text = await registry.metrics();
    assert.match(
      text,
      /scalegate_admission_rejections_total\{tenant="tenant-alpha",reason="budget"\} 1/,
    );
  });
});
