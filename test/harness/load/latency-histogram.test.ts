import assert from 'node:assert/strict';
import { LatencyHistogram } from '../../../src/harness/load/latency-histogram.js';

describe('LatencyHistogram', () => {
  it('keeps p99 at or below max', () => {
    // The HDR bucket holding 10,460 ms tops out at 10,461.183 ms.
    const histogram = new LatencyHistogram();
    histogram.record(10_460);
    const summary = histogram.summary();
    assert.equal(summary.p99, 10_460);
    assert.equal(summary.max, 10_460);
  });

  it('reports the exact min and mean', () => {
    const histogram = new LatencyHistogram();
    histogram.record(100);
    histogram.record(10_460);
    const summary = histogram.summary();
    assert.equal(summary.min, 100);
    assert.equal(summary.mean, 5280);
  });

  it('keeps percentiles inside the recorded range', () => {
    const histogram = new LatencyHistogram();
    for (let ms = 1; ms <= 20_000; ms += 7) histogram.record(ms);
    const { min, p50, p90, p95, p99, max } = histogram.summary();
    const ordered = [min, p50, p90, p95, p99, max];
    assert.deepEqual(
      ordered,
      [...ordered].sort((a, b) => a - b),
    );
    assert.equal(min, 1);
    assert.equal(max, 20_000);
  });

  it('returns zeros without samples', () => {
    const histogram = new LatencyHistogram();
    assert.equal(histogram.percentile(99), 0);
    assert.equal(histogram.summary().count, 0);
  });
});
