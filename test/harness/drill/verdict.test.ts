import assert from 'node:assert/strict';

import { checkSteadyState } from '../../../src/harness/drill/probes.js';
import type { DrillSpec } from '../../../src/harness/drill/spec.js';
import { decideVerdict } from '../../../src/harness/drill/verdict.js';
import type { DrillJournal, SeriesPoint } from '../../../src/harness/report/types.js';

const spec: DrillSpec = {
  name: 'unit-drill',
  description: 'outage of provider-a from 3 s to 6 s',
  scenario: 'unit',
  durationS: 10,
  steadyState: {
    settleS: 1,
    probes: [
      {
        name: 'success-rate',
        source: 'series',
        measure: 'successRate',
        comparator: 'min',
        threshold: 0.99,
        tolerance: 0,
      },
    ],
  },
  faults: [
    {
      kind: 'provider-fault',
      id: 'outage',
      provider: 'provider-a',
      atS: 3,
      durationS: 3,
      faults: { errorRate: 1, errorStatus: 503 },
    },
  ],
  abortRules: [],
};

/** Ten seconds in which `requests(t)` requests finish and `successes(t)` of them succeed. */
function series(requests: (t: number) => number, successes: (t: number) => number): SeriesPoint[] {
  return Array.from({ length: 10 }, (_, t) => ({
    t,
    requests: requests(t),
    successes: successes(t),
    throughputRpm: requests(t) * 60,
    successRate: requests(t) === 0 ? 0 : successes(t) / requests(t),
    p95S: 1,
    failovers: 0,
    servedBy: {},
  }));
}

function journalOf(points: SeriesPoint[]): DrillJournal {
  return {
    name: spec.name,
    steadyState: checkSteadyState(spec, spec.durationS, points, []),
    faults: [],
    timings: [],
    aborted: null,
    rollback: [],
    cleanAfterRollback: true,
    leftovers: [],
  };
}

describe('decideVerdict', () => {
  it('says a window without data was not checked', () => {
    // No request finishes while the outage lasts.
    const points = series(
      (t) => (t >= 3 && t < 6 ? 0 : 10),
      (t) => (t >= 3 && t < 6 ? 0 : 10),
    );
    const verdict = decideVerdict(journalOf(points), null);
    assert.equal(verdict.status, 'deviated');
    assert.deepEqual(verdict.reasons, [
      'during: success-rate not checked: no data was collected from 3 s to 6 s',
    ]);
  });

  it('states a measured breach with its value', () => {
    const points = series(
      () => 10,
      (t) => (t >= 3 && t < 6 ? 5 : 10),
    );
    const verdict = decideVerdict(journalOf(points), null);
    assert.deepEqual(verdict.reasons, [
      'during: success-rate 0.5 below minimum 0.99 (tolerance 0)',
    ]);
  });
});
