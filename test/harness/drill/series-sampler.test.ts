import assert from 'node:assert/strict';

import {
  keyedSamples,
  type MetricSampleValue,
  parsePrometheusText,
} from '../../../src/harness/drill/metric-samples.js';
import { SeriesSampler } from '../../../src/harness/drill/series-sampler.js';

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
    const point = sampler.record(0, counters(30, 50, 5, 12, 18));
    assert.equal(point.successes, 20);
    assert.equal(point.requests, 25);
    assert.equal(point.successRate, 0.8);
    assert.deepEqual(point.servedBy, { 'provider-a': 2, 'provider-b': 18 });
  });

  it('interpolates p95 inside its bucket', () => {
    const sampler = new SeriesSampler([]);
    sampler.baseline(counters(0, 0, 0, 0, 0));
    // 10 of 20 requests took at most 1 s and all 20 at most 2.5 s, so rank 19 lies
    // nine tenths into the bucket from 1 to 2.5 s.
    const p95 = sampler.record(0, counters(20, 0, 0, 0, 0)).p95S;
    assert.ok(Math.abs(p95 - 2.35) < 1e-9, `p95 ${p95}`);
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
    const p95 = sampler.record(0, fast(20)).p95S;
    assert.ok(Math.abs(p95 - 0.95) < 1e-9, `p95 ${p95}`);
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
