import assert from 'node:assert/strict';

import { LatencyBySecond } from '../../../src/harness/load/latency-by-second.js';

describe('LatencyBySecond', () => {
  it('reads only the given seconds', () => {
    const latencies = new LatencyBySecond();
    latencies.record(0, 100);
    latencies.record(1, 200);
    latencies.record(1, 300);
    latencies.record(2, 50_000);
    assert.equal(latencies.percentile([0, 1], 100), 300);
    assert.equal(latencies.percentile([0, 1], 0), 100);
  });

  it('takes the nearest rank over the window', () => {
    // 90 requests of 1 s and 10 of 10 s: the 95th of 100 is a 10 s one.
    const latencies = new LatencyBySecond();
    for (let second = 0; second < 10; second += 1) {
      for (let index = 0; index < 10; index += 1) {
        latencies.record(second, second === 9 ? 10_000 : 1000);
      }
    }
    assert.equal(latencies.percentile([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 95), 10_000);
    assert.equal(latencies.percentile([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 90), 1000);
  });

  it('counts a repeated second once', () => {
    const latencies = new LatencyBySecond();
    latencies.record(4, 100);
    latencies.record(5, 900);
    // Counted twice, second 4 would fill ranks 1 and 2, and the 60th percentile would be 100.
    assert.equal(latencies.percentile([4, 4, 5], 60), 900);
  });

  it('returns null for unknown seconds', () => {
    const latencies = new LatencyBySecond();
    latencies.record(0, 100);
    assert.equal(latencies.percentile([7, 8], 95), null);
  });
});
