import assert from 'node:assert/strict';

import {
  firedValue,
  measureWindow,
  pointsIn,
  windowP95,
} from '../../../src/harness/drill/measures.js';
import type { AbortRule } from '../../../src/harness/drill/spec.js';
import { LatencyBySecond } from '../../../src/harness/load/latency-by-second.js';
import type { SeriesPoint } from '../../../src/harness/report/types.js';

function point(t: number, requests: number, successes: number, p95S = 1): SeriesPoint {
  const successRate = requests === 0 ? 0 : successes / requests;
  return {
    t,
    requests,
    successes,
    throughputRpm: requests * 60,
    successRate,
    p95S,
    failovers: 0,
    servedBy: {},
  };
}

const rule: AbortRule = {
  name: 'low',
  measure: 'successRate',
  comparator: 'below',
  threshold: 0.5,
  forS: 3,
};

describe('measures', () => {
  it('weights success rate by requests', () => {
    assert.equal(measureWindow([point(0, 10, 10), point(1, 30, 0)], 'successRate'), 0.25);
  });

  describe('windowP95', () => {
    /** Points and latencies of seconds whose requests took `latenciesS[t]` seconds. */
    function window(latenciesS: number[][]): {
      points: SeriesPoint[];
      latencies: LatencyBySecond;
    } {
      const latencies = new LatencyBySecond();
      const points = latenciesS.map((second, t) => {
        for (const latencyS of second) latencies.record(t, latencyS * 1000);
        const sorted = [...second].sort((a, b) => a - b);
        const p95S = sorted[Math.ceil(0.95 * sorted.length) - 1] ?? 0;
        return point(t, second.length, second.length, p95S);
      });
      return { points, latencies };
    }

    it('counts a slow second at its weight', () => {
      // 90 requests of 1 s and 10 of 10 s: the 95th of 100 is a 10 s one. The
      // request-weighted mean of the per-second p95 values would be 1.9 s.
      const seconds = [...Array<number[]>(9).fill(Array(10).fill(1)), Array(10).fill(10)];
      const { points, latencies } = window(seconds);
      assert.equal(windowP95(points, latencies), 10);
    });

    it('ignores one slow request among 99', () => {
      // 99 requests of 1 s and one of 30 s alone in its second: the 95th of 100 is 1 s.
      // The request-weighted mean of the per-second p95 values would be 1.29 s.
      const seconds = [...Array<number[]>(9).fill(Array(11).fill(1)), [30]];
      const { points, latencies } = window(seconds);
      assert.equal(windowP95(points, latencies), 1);
    });

    it('equals the p95 of one second', () => {
      const { points, latencies } = window([[0.5, 1, 2, 3, 4]]);
      assert.equal(windowP95(points, latencies), points[0]?.p95S);
    });

    it('reads only the seconds of the window', () => {
      const { points, latencies } = window([[1], [1], [50]]);
      assert.equal(windowP95(pointsIn(points, 0, 2), latencies), 1);
    });

    it('returns null without requests', () => {
      const { points, latencies } = window([[], []]);
      assert.equal(windowP95(points, latencies), null);
    });
  });

  it('returns null for an empty window', () => {
    assert.equal(measureWindow([point(0, 0, 0)], 'successRate'), null);
  });

  it('keeps only whole seconds inside the window', () => {
    const series = [point(0, 1, 1), point(1, 1, 1), point(2, 1, 1)];
    assert.deepEqual(
      pointsIn(series, 1, 2.5).map((entry) => entry.t),
      [1],
    );
  });

  it('fires after forS breaching seconds', () => {
    const series = [point(0, 10, 10), point(1, 10, 1), point(2, 10, 2), point(3, 10, 3)];
    assert.equal(firedValue(rule, series, 4), 0.2);
  });

  it('holds while one second recovers', () => {
    const series = [point(0, 10, 1), point(1, 10, 9), point(2, 10, 1), point(3, 10, 1)];
    assert.equal(firedValue(rule, series, 4), null);
  });

  it('holds until forS seconds exist', () => {
    assert.equal(firedValue(rule, [point(0, 10, 0), point(1, 10, 0)], 2), null);
  });

  it('reports the mildest p95 breach', () => {
    const slow: AbortRule = { ...rule, measure: 'p95S', comparator: 'above', threshold: 5 };
    const series = [point(0, 10, 10, 6), point(1, 30, 30, 9), point(2, 10, 10, 7)];
    assert.equal(firedValue(slow, series, 3), 6);
  });

  it('skips the p95 of a second without successes', () => {
    const slow: AbortRule = { ...rule, measure: 'p95S', comparator: 'above', threshold: 5 };
    const series = [point(0, 10, 10, 6), point(1, 10, 0, 9), point(2, 10, 10, 7)];
    assert.equal(firedValue(slow, series, 3), null);
  });

  it('holds while one second is fast', () => {
    const slow: AbortRule = { ...rule, measure: 'p95S', comparator: 'above', threshold: 5 };
    const series = [point(0, 10, 10, 6), point(1, 30, 30, 4), point(2, 10, 10, 7)];
    assert.equal(firedValue(slow, series, 3), null);
  });
});
