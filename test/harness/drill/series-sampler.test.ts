import assert from 'node:assert/strict';

import { Histogram, Registry } from 'prom-client';

import {
  keyedSamples,
  type MetricSampleValue,
  parsePrometheusText,
  readRegistry,
} from '../../../src/harness/drill/metric-samples.js';
import { firedValue } from '../../../src/harness/drill/measures.js';
import { sampleSeries, SeriesSampler } from '../../../src/harness/drill/series-sampler.js';
import { TOTAL_LATENCY_BUCKETS } from '../../../src/platform/metrics/buckets.js';
import { createPlatformMetrics } from '../../../src/platform/metrics/platform-metrics.js';
import type { SeriesPoint } from '../../../src/harness/report/types.js';
import { type SteppingClock, steppingClock } from './stepping-clock.js';

function sample(name: string, labels: Record<string, string>, value: number): MetricSampleValue {
  return { name, labels, value };
}

function counters(alpha: number, noisy: number, failed: number, servedA: number, servedB: number) {
  const bucket = (le: string, value: number) =>
    sample(
      'scalegate_request_duration_seconds_bucket',
      { le, outcome: 'succeeded', route: 'chat' },
      value,
    );
  return [
    sample('scalegate_requests_total', { tenant: 'tenant-alpha', outcome: 'succeeded' }, alpha),
    sample('scalegate_requests_total', { tenant: 'tenant-noisy', outcome: 'succeeded' }, noisy),
    sample('scalegate_requests_total', { tenant: 'tenant-alpha', outcome: 'failed' }, failed),
    sample(
      'scalegate_admission_rejections_total',
      { tenant: 'tenant-noisy', reason: 'rpm' },
      noisy,
    ),
    sample('mock_provider_requests_total', { provider: 'provider-a', status: '200' }, servedA),
    sample('mock_provider_requests_total', { provider: 'provider-a', status: '503' }, 50),
    sample('mock_provider_requests_total', { provider: 'provider-b', status: '200' }, servedB),
    bucket('1', alpha / 2),
    bucket('2.5', alpha),
    bucket('+Inf', alpha),
  ];
}

describe('SeriesSampler', () => {
  it('differences counters per second', () => {
    const sampler = new SeriesSampler(['tenant-noisy']);
    sampler.baseline(counters(10, 5, 0, 10, 0));
    const [point] = sampler.record(0, counters(30, 50, 5, 12, 18));
    assert.equal(point?.successes, 20);
    assert.equal(point?.requests, 25);
    assert.equal(point?.successRate, 0.8);
    assert.deepEqual(point?.servedBy, { 'provider-a': 2, 'provider-b': 18 });
  });

  it('counts burst calls in servedBy', () => {
    const sampler = new SeriesSampler(['tenant-noisy']);
    sampler.baseline(counters(10, 5, 0, 10, 0));
    // tenant-noisy's 45 successes are left out of successes, but its calls got 200s too.
    const [point] = sampler.record(0, counters(30, 50, 0, 40, 25));
    assert.equal(point?.successes, 20);
    assert.deepEqual(point?.servedBy, { 'provider-a': 30, 'provider-b': 25 });
  });

  it('counts admission rejections per tenant', () => {
    const sampler = new SeriesSampler(['tenant-noisy']);
    const rejections = (noisy: number, alpha: number) => [
      sample(
        'scalegate_admission_rejections_total',
        { tenant: 'tenant-noisy', reason: 'rpm' },
        noisy,
      ),
      sample('scalegate_admission_rejections_total', { tenant: 'tenant-noisy', reason: 'tpm' }, 1),
      sample(
        'scalegate_admission_rejections_total',
        { tenant: 'tenant-alpha', reason: 'rpm' },
        alpha,
      ),
    ];
    sampler.baseline(rejections(5, 2));
    const [burst] = sampler.record(0, rejections(45, 2));
    const [quiet] = sampler.record(1, rejections(45, 3));
    // The burst tenant's rejections count, though its requests are left out of the others.
    assert.deepEqual(burst?.admissionRejections, { 'tenant-noisy': 40 });
    assert.equal(burst?.requests, 0);
    assert.deepEqual(quiet?.admissionRejections, { 'tenant-alpha': 1 });
  });

  it('spreads admission rejections over skipped seconds', () => {
    const sampler = new SeriesSampler([]);
    const rejections = (value: number) => [
      sample(
        'scalegate_admission_rejections_total',
        { tenant: 'tenant-noisy', reason: 'rpm' },
        value,
      ),
    ];
    sampler.baseline(rejections(0));
    const points = sampler.record(3, rejections(2), 3);
    assert.deepEqual(
      points.map((point) => point.admissionRejections),
      [{}, { 'tenant-noisy': 1 }, { 'tenant-noisy': 1 }],
    );
  });

  it('counts failovers per provider pair', () => {
    const sampler = new SeriesSampler(['tenant-noisy']);
    const failovers = (aToB: number, aToC: number, bToC: number) => [
      sample(
        'scalegate_failover_activations_total',
        { from_provider: 'provider-a', to_provider: 'provider-b' },
        aToB,
      ),
      sample(
        'scalegate_failover_activations_total',
        { from_provider: 'provider-a', to_provider: 'provider-c' },
        aToC,
      ),
      sample(
        'scalegate_failover_activations_total',
        { from_provider: 'provider-b', to_provider: 'provider-c' },
        bToC,
      ),
    ];
    sampler.baseline(failovers(4, 1, 0));
    const [outage] = sampler.record(0, failovers(29, 3, 0));
    const [latency] = sampler.record(1, failovers(29, 3, 6));
    const [quiet] = sampler.record(2, failovers(29, 3, 6));
    assert.deepEqual(outage?.failoversByPair, {
      'provider-a': { 'provider-b': 25, 'provider-c': 2 },
    });
    assert.equal(outage?.failovers, 27);
    assert.deepEqual(latency?.failoversByPair, { 'provider-b': { 'provider-c': 6 } });
    assert.equal(latency?.failovers, 6);
    assert.deepEqual(quiet?.failoversByPair, {});
    assert.equal(quiet?.failovers, 0);
  });

  it('reads failover pairs from platform metrics', async () => {
    const metrics = createPlatformMetrics();
    const sampler = new SeriesSampler([]);
    sampler.baseline(await readRegistry(metrics.registry));
    for (let index = 0; index < 3; index += 1) metrics.recordFailover('provider-a', 'provider-b');
    metrics.recordFailover('provider-b', 'provider-c');
    // A repeat on the same provider is a retry, not a failover.
    metrics.recordFailover('provider-a', 'provider-a');
    const [point] = sampler.record(0, await readRegistry(metrics.registry));
    assert.deepEqual(point?.failoversByPair, {
      'provider-a': { 'provider-b': 3 },
      'provider-b': { 'provider-c': 1 },
    });
    assert.equal(point?.failovers, 4);
  });

  it('counts unlabelled failovers as unknown', () => {
    const sampler = new SeriesSampler([]);
    sampler.baseline([sample('scalegate_failover_activations_total', {}, 2)]);
    const [point] = sampler.record(0, [sample('scalegate_failover_activations_total', {}, 7)]);
    assert.deepEqual(point?.failoversByPair, { unknown: { unknown: 5 } });
    assert.equal(point?.failovers, 5);
  });

  it('spreads failover pairs over skipped seconds', () => {
    const sampler = new SeriesSampler([]);
    const failovers = (aToB: number, bToC: number) => [
      sample(
        'scalegate_failover_activations_total',
        { from_provider: 'provider-a', to_provider: 'provider-b' },
        aToB,
      ),
      sample(
        'scalegate_failover_activations_total',
        { from_provider: 'provider-b', to_provider: 'provider-c' },
        bToC,
      ),
    ];
    sampler.baseline(failovers(0, 0));
    const points = sampler.record(1, failovers(3, 1), 2);
    // Each pair is spread on its own, and each point's total is the sum of its pairs.
    assert.deepEqual(
      points.map((point) => point.failoversByPair),
      [
        { 'provider-a': { 'provider-b': 1 } },
        { 'provider-a': { 'provider-b': 2 }, 'provider-b': { 'provider-c': 1 } },
      ],
    );
    assert.deepEqual(
      points.map((point) => point.failovers),
      [1, 3],
    );
  });

  it('sums first token times per provider', () => {
    const sampler = new SeriesSampler(['tenant-noisy']);
    const firstTokens = (countA: number, sumA: number, countB: number, sumB: number) => [
      sample(
        'scalegate_time_to_first_token_seconds_count',
        { provider: 'provider-a', model: 'gpt-4o' },
        countA,
      ),
      sample(
        'scalegate_time_to_first_token_seconds_sum',
        { provider: 'provider-a', model: 'gpt-4o' },
        sumA,
      ),
      sample(
        'scalegate_time_to_first_token_seconds_count',
        { provider: 'provider-b', model: 'claude-sonnet' },
        countB,
      ),
      sample(
        'scalegate_time_to_first_token_seconds_sum',
        { provider: 'provider-b', model: 'claude-sonnet' },
        sumB,
      ),
      sample(
        'scalegate_time_to_first_token_seconds_count',
        { provider: 'provider-b', model: 'claude-haiku' },
        1,
      ),
      sample(
        'scalegate_time_to_first_token_seconds_sum',
        { provider: 'provider-b', model: 'claude-haiku' },
        0.25,
      ),
    ];
    sampler.baseline(firstTokens(10, 3, 0, 0));
    const [both] = sampler.record(0, firstTokens(14, 4.5, 5, 9));
    const [slow] = sampler.record(1, firstTokens(14, 4.5, 7, 13));
    // Models of one provider add up, and a provider without a new task is absent.
    assert.deepEqual(both?.firstTokenByProvider, {
      'provider-a': { count: 4, sumS: 1.5 },
      'provider-b': { count: 5, sumS: 9 },
    });
    assert.deepEqual(slow?.firstTokenByProvider, { 'provider-b': { count: 2, sumS: 4 } });
  });

  it('reads first token times from platform metrics', async () => {
    const metrics = createPlatformMetrics();
    const sampler = new SeriesSampler([]);
    sampler.baseline(await readRegistry(metrics.registry));
    metrics.observeTimeToFirstToken({ provider: 'provider-b', model: 'claude-sonnet' }, 1.5);
    metrics.observeTimeToFirstToken({ provider: 'provider-b', model: 'claude-sonnet' }, 2);
    const [point] = sampler.record(0, await readRegistry(metrics.registry));
    assert.deepEqual(point?.firstTokenByProvider, { 'provider-b': { count: 2, sumS: 3.5 } });
  });

  it('spreads first token times over skipped seconds', () => {
    const sampler = new SeriesSampler([]);
    const firstTokens = (count: number, sumS: number) => [
      sample('scalegate_time_to_first_token_seconds_count', { provider: 'provider-b' }, count),
      sample('scalegate_time_to_first_token_seconds_sum', { provider: 'provider-b' }, sumS),
    ];
    sampler.baseline(firstTokens(0, 0));
    const points = sampler.record(2, firstTokens(4, 6), 3);
    // 4 tasks over 3 seconds: 1, 1 and 2, each share with its part of the 6 s.
    assert.deepEqual(
      points.map((point) => point.firstTokenByProvider),
      [
        { 'provider-b': { count: 1, sumS: 1.5 } },
        { 'provider-b': { count: 1, sumS: 1.5 } },
        { 'provider-b': { count: 2, sumS: 3 } },
      ],
    );
  });

  it('counts dead-lettered tasks as failures', () => {
    const sampler = new SeriesSampler([]);
    sampler.baseline(counters(0, 0, 0, 0, 0));
    const deadLettered = sample(
      'scalegate_requests_total',
      { tenant: 'tenant-alpha', outcome: 'dead_lettered' },
      3,
    );
    const [point] = sampler.record(0, [...counters(9, 0, 0, 0, 0), deadLettered]);
    assert.equal(point?.requests, 12);
    assert.equal(point?.successes, 9);
    assert.equal(point?.successRate, 0.75);
  });

  it('reads the queue gauges of each second', () => {
    const sampler = new SeriesSampler([]);
    sampler.baseline(counters(0, 0, 0, 0, 0));
    const queue = (depth: number, ageS: number) => [
      sample('scalegate_queue_depth', { queue: 'tasks' }, depth),
      sample('scalegate_queue_oldest_age_seconds', { queue: 'tasks' }, ageS),
    ];
    const [first] = sampler.record(0, [...counters(5, 0, 0, 0, 0), ...queue(40, 12.5)]);
    const [second] = sampler.record(1, [...counters(5, 0, 0, 0, 0), ...queue(3, 0.4)]);
    assert.equal(first?.queueDepth, 40);
    assert.equal(first?.queueOldestAgeS, 12.5);
    // Gauges are not differenced: the second read stands for itself.
    assert.equal(second?.queueDepth, 3);
    assert.equal(second?.queueOldestAgeS, 0.4);
  });

  it('sums depth and takes the oldest age over queues', () => {
    const sampler = new SeriesSampler([]);
    const [point] = sampler.record(0, [
      sample('scalegate_queue_depth', { queue: 'a' }, 4),
      sample('scalegate_queue_depth', { queue: 'b' }, 6),
      sample('scalegate_queue_oldest_age_seconds', { queue: 'a' }, 2),
      sample('scalegate_queue_oldest_age_seconds', { queue: 'b' }, 9),
    ]);
    assert.equal(point?.queueDepth, 10);
    assert.equal(point?.queueOldestAgeS, 9);
  });

  it('puts the queue read on the last skipped second only', () => {
    const sampler = new SeriesSampler([]);
    sampler.baseline(counters(0, 0, 0, 0, 0));
    const points = sampler.record(
      2,
      [
        ...counters(6, 0, 0, 0, 0),
        sample('scalegate_queue_depth', { queue: 'tasks' }, 30),
        sample('scalegate_queue_oldest_age_seconds', { queue: 'tasks' }, 7),
      ],
      3,
    );
    assert.deepEqual(
      points.map((point) => [point.t, point.queueDepth, point.queueOldestAgeS]),
      [
        [0, undefined, undefined],
        [1, undefined, undefined],
        [2, 30, 7],
      ],
    );
  });

  it('leaves the queue out without a depth gauge', () => {
    const sampler = new SeriesSampler([]);
    const [point] = sampler.record(0, counters(1, 0, 0, 0, 0));
    assert.equal(point?.queueDepth, undefined);
    assert.equal(point?.queueOldestAgeS, undefined);
  });

  it('fires a queue abort rule on the gauge', () => {
    const points: SeriesPoint[] = [50, 56, 57, 58].map((ageS, t) => ({
      t,
      requests: 0,
      successes: 0,
      throughputRpm: 0,
      successRate: 0,
      p95S: 0,
      failovers: 0,
      servedBy: {},
      queueDepth: 100,
      queueOldestAgeS: ageS,
    }));
    const rule = {
      name: 'old',
      measure: 'queueOldestAgeS' as const,
      comparator: 'above' as const,
      threshold: 55,
      forS: 3,
    };
    // Seconds 1 to 3 are all above 55 s, and 56 s is the one closest to the threshold.
    assert.equal(firedValue(rule, points, 4), 56);
    assert.equal(firedValue(rule, points, 3), null);
  });

  it('interpolates p95 inside its bucket', () => {
    const sampler = new SeriesSampler([]);
    sampler.baseline(counters(0, 0, 0, 0, 0));
    // 10 of 20 requests took at most 1 s and all 20 at most 2.5 s, so rank 19 lies
    // nine tenths into the bucket from 1 to 2.5 s.
    const p95 = sampler.record(0, counters(20, 0, 0, 0, 0))[0]?.p95S ?? 0;
    assert.ok(Math.abs(p95 - 2.35) < 1e-9, `p95 ${p95}`);
  });

  it('reads p95 near the objective within 1 s', async () => {
    const registry = new Registry();
    const histogram = new Histogram({
      name: 'scalegate_request_duration_seconds',
      help: 'test',
      labelNames: ['outcome', 'route'],
      buckets: TOTAL_LATENCY_BUCKETS,
      registers: [registry],
    });
    // 100 latencies evenly from 8.0 to 10.3 s; the nearest-rank p95 is the 95th.
    const values = Array.from({ length: 100 }, (_, index) => 8 + (2.3 * index) / 99);
    for (const value of values) histogram.observe({ outcome: 'succeeded', route: 'chat' }, value);
    const sampler = new SeriesSampler([]);
    sampler.baseline([]);
    const [point] = sampler.record(0, parsePrometheusText(await registry.metrics()));
    const truth = values[94] ?? 0;
    assert.ok(Math.abs((point?.p95S ?? 0) - truth) < 1, `p95 ${point?.p95S} against ${truth}`);
  });

  it('interpolates p95 in the first bucket from 0', () => {
    const sampler = new SeriesSampler([]);
    const fast = (count: number) =>
      ['1', '2.5', '+Inf'].map((le) =>
        sample(
          'scalegate_request_duration_seconds_bucket',
          { le, outcome: 'succeeded', route: 'chat' },
          count,
        ),
      );
    sampler.baseline(fast(0));
    const p95 = sampler.record(0, fast(20))[0]?.p95S ?? 0;
    assert.ok(Math.abs(p95 - 0.95) < 1e-9, `p95 ${p95}`);
  });

  it('spreads skipped seconds over one point each', () => {
    const sampler = new SeriesSampler(['tenant-noisy']);
    sampler.baseline(counters(0, 0, 0, 0, 0));
    const points = sampler.record(4, counters(31, 0, 2, 30, 1), 3);
    assert.deepEqual(
      points.map((point) => point.t),
      [2, 3, 4],
    );
    assert.deepEqual(
      points.map((point) => point.requests),
      [11, 11, 11],
    );
    assert.deepEqual(
      points.map((point) => point.successes),
      [10, 10, 11],
    );
    assert.deepEqual(
      points.map((point) => point.servedBy['provider-a']),
      [10, 10, 10],
    );
  });
});

/**
 * Creates the read function of a platform on `clock` where 10 requests succeed at the end
 * of every second and, from 20 s on, 5 of them fail over. Each read takes the counters at
 * once and then lasts as long as `readMs` returns for the read's start time.
 */
function slowPlatform(clock: SteppingClock, readMs: (atMs: number) => number) {
  return async (): Promise<MetricSampleValue[]> => {
    const atMs = clock.monotonic();
    const seconds = Math.floor(atMs / 1000);
    const samples = [
      sample(
        'scalegate_requests_total',
        { tenant: 'tenant-alpha', outcome: 'succeeded' },
        10 * seconds,
      ),
      sample('scalegate_failover_activations_total', {}, 5 * Math.max(0, seconds - 20)),
    ];
    clock.advance(readMs(atMs));
    return samples;
  };
}

async function sampleUntil(
  clock: SteppingClock,
  endMs: number,
  read: () => Promise<MetricSampleValue[]>,
): Promise<readonly SeriesPoint[]> {
  const sampler = new SeriesSampler([]);
  const originMs = clock.monotonic();
  sampler.baseline(await read());
  await sampleSeries({
    clock,
    originMs,
    sampler,
    read,
    isRunning: () => clock.monotonic() < endMs,
    signal: new AbortController().signal,
  });
  return sampler.points();
}

describe('sampleSeries', () => {
  it('places points by the clock', async () => {
    const clock = steppingClock();
    // Every read takes 1.5 s, so 14 reads pass before the failovers start at 20 s.
    const points = await sampleUntil(
      clock,
      30_000,
      slowPlatform(clock, () => 1500),
    );
    // The read at 21 s covers seconds 19 and 20, so their 5 failovers are spread over both.
    const firstFailover = points.find((point) => point.failovers > 0);
    assert.equal(firstFailover?.t, 19);
    const early = points.filter((point) => point.t <= 20);
    assert.equal(
      early.reduce((total, point) => total + point.failovers, 0),
      5,
    );
  });

  it('keeps a point per second', async () => {
    const clock = steppingClock();
    const points = await sampleUntil(
      clock,
      30_000,
      slowPlatform(clock, () => 1500),
    );
    // Reads start at 1.5 s, 3 s, 4.5 s, 6 s and so on; each covers the seconds before it.
    assert.deepEqual(
      points.slice(0, 9).map((point) => point.t),
      [0, 1, 2, 3, 4, 5, 6, 7, 8],
    );
  });

  it('spreads the seconds a slow read skipped', async () => {
    const clock = steppingClock();
    // The read at 3 s takes 2.5 s, so the next one starts at 5.5 s, past the second 3 to 4.
    const read = slowPlatform(clock, (atMs) => (atMs === 3000 ? 2500 : 0));
    const points = await sampleUntil(clock, 8000, read);
    assert.deepEqual(
      points.map((point) => point.t),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(points[3]?.requests, 10);
    assert.equal(points[4]?.requests, 10);
    assert.equal(points[4]?.throughputRpm, 600);
  });

  it('lets an abort rule fire over slow reads', async () => {
    const clock = steppingClock();
    const failing = async (): Promise<MetricSampleValue[]> => {
      const seconds = Math.floor(clock.monotonic() / 1000);
      const labels = { tenant: 'tenant-alpha', outcome: 'failed' };
      clock.advance(1500);
      return [sample('scalegate_requests_total', labels, 10 * seconds)];
    };
    const points = await sampleUntil(clock, 12_000, failing);
    const rule = {
      name: 'success-below-half',
      measure: 'successRate' as const,
      comparator: 'below' as const,
      threshold: 0.5,
      forS: 3,
    };
    assert.equal(firedValue(rule, points, 3), 0);
  });

  it('records the second in progress on abort', async () => {
    const clock = steppingClock();
    const controller = new AbortController();
    const sampler = new SeriesSampler([]);
    // The abort comes at 2.5 s, while the loop waits for the end of second 2.
    const sleep: SteppingClock['sleep'] = async (ms, signal) => {
      if (clock.monotonic() === 2000) {
        clock.advance(500);
        controller.abort();
      }
      await clock.sleep(ms, signal);
    };
    const read = slowPlatform(clock, () => 0);
    sampler.baseline(await read());
    await sampleSeries({
      clock: { ...clock, sleep },
      originMs: 0,
      sampler,
      read,
      isRunning: () => true,
      signal: controller.signal,
    });
    assert.deepEqual(
      sampler.points().map((point) => point.t),
      [0, 1, 2],
    );
  });
});

describe('parsePrometheusText', () => {
  it('parses labels and adds extra ones', () => {
    const text = [
      '# HELP mock_provider_requests_total Requests.',
      '# TYPE mock_provider_requests_total counter',
      'mock_provider_requests_total{model="gpt-4o",key="k1",status="200"} 42',
      'process_start 1.5',
    ].join('\n');
    assert.deepEqual(parsePrometheusText(text, { provider: 'provider-a' }), [
      sample(
        'mock_provider_requests_total',
        { provider: 'provider-a', model: 'gpt-4o', key: 'k1', status: '200' },
        42,
      ),
      sample('process_start', { provider: 'provider-a' }, 1.5),
    ]);
  });

  it('unescapes quoted label values', () => {
    const [parsed] = parsePrometheusText('m{path="a\\"b"} 1');
    assert.equal(parsed?.labels.path, 'a"b');
  });
});

describe('keyedSamples', () => {
  it('keys samples with sorted labels', () => {
    const keyed = keyedSamples([sample('m', { b: '2', a: '1' }, 3), sample('n', {}, 4)]);
    assert.deepEqual(keyed, { 'm{a="1",b="2"}': 3, n: 4 });
  });
});
