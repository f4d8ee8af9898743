import assert from 'node:assert/strict';

import { firedValue, measureWindow, pointsIn } from '../../../src/harness/drill/measures.js';
import type { AbortRule } from '../../../src/harness/drill/spec.js';
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

  it('weights p95 by requests', () => {
    assert.equal(measureWindow([point(0, 10, 10, 1), point(1, 30, 30, 5)], 'p95S'), 4);
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
});
