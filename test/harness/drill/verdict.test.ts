import assert from 'node:assert/strict';

import { checkSteadyState } from '../../../src/harness/drill/probes.js';
import type { DrillSpec, ProbeSpec } from '../../../src/harness/drill/spec.js';
import { decideVerdict } from '../../../src/harness/drill/verdict.js';
import { stoppedEarlyReason } from '../../../src/harness/load/health.js';
import { LatencyBySecond } from '../../../src/harness/load/latency-by-second.js';
import type { DrillJournal, SeriesPoint } from '../../../src/harness/report/types.js';
import { sampleReport } from '../report/sample-report.js';

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

function journalOf(points: SeriesPoint[], probe: Partial<ProbeSpec> = {}): DrillJournal {
  const probes = spec.steadyState.probes.map((entry) => ({ ...entry, ...probe }));
  const drill = { ...spec, steadyState: { ...spec.steadyState, probes } };
  return {
    name: spec.name,
    steadyState: checkSteadyState(drill, spec.durationS, {
      series: points,
      latencies: new LatencyBySecond(),
      samples: [],
    }),
    faults: [],
    timings: [],
    aborted: null,
    rollback: [],
    cleanAfterRollback: true,
    leftovers: [],
  };
}

describe('decideVerdict', () => {
  it('fails a window without data', () => {
    // No request finishes while the outage lasts.
    const points = series(
      (t) => (t >= 3 && t < 6 ? 0 : 10),
      (t) => (t >= 3 && t < 6 ? 0 : 10),
    );
    const verdict = decideVerdict(journalOf(points), null);
    assert.equal(verdict.status, 'deviated');
    assert.deepEqual(verdict.reasons, [
      'during 3-6 s: success-rate had no data in the window, which counts as a failure',
    ]);
  });

  it('states a measured breach with its value', () => {
    const points = series(
      () => 10,
      (t) => (t >= 3 && t < 6 ? 5 : 10),
    );
    const verdict = decideVerdict(journalOf(points), null);
    assert.deepEqual(verdict.reasons, [
      'during 3-6 s: success-rate 0.5 below minimum 0.99 (tolerance 0)',
    ]);
  });

  it('passes a probe that could not fail', () => {
    // The during tolerance admits every success rate, so 0.5 there is no failure and no pass.
    const points = series(
      () => 10,
      (t) => (t >= 3 && t < 6 ? 5 : 10),
    );
    const journal = journalOf(points, { duringTolerance: 1 });
    assert.equal(journal.steadyState[1]?.probes[0]?.passed, null);
    const verdict = decideVerdict(journal, null);
    assert.equal(verdict.status, 'passed');
    assert.deepEqual(verdict.reasons, []);
  });

  describe('with an invalid harness', () => {
    const healthy = series(
      () => 10,
      () => 10,
    );
    const breached = series(
      () => 10,
      (t) => (t >= 3 && t < 6 ? 5 : 10),
    );

    function invalidResult() {
      const result = sampleReport().topologies[0];
      assert.ok(result);
      result.harness = { ...result.harness, valid: false, reasons: ['scheduler stalled 900 ms'] };
      return result;
    }

    it('is inconclusive when probes pass', () => {
      const verdict = decideVerdict(journalOf(healthy), invalidResult());
      assert.equal(verdict.status, 'inconclusive');
      assert.match(verdict.reasons[0] ?? '', /^harness invalid: scheduler stalled 900 ms; rerun/);
    });

    it('is inconclusive when a probe failed', () => {
      const verdict = decideVerdict(journalOf(breached), invalidResult());
      assert.equal(verdict.status, 'inconclusive');
      assert.equal(verdict.reasons.length, 2);
    });

    it('names failed responses of an aborted run', () => {
      const result = invalidResult();
      result.harness.reasons = [stoppedEarlyReason(undefined)];
      result.statusCounts = { '200': 10, '503': 5, '504': 2 };
      const aborted = { reason: 'abort-rule' as const, detail: 'error-rate fired', atS: 12 };
      const verdict = decideVerdict({ ...journalOf(healthy), aborted }, result);
      assert.equal(verdict.status, 'aborted');
      assert.deepEqual(verdict.reasons, [
        'aborted at 12.00 s: error-rate fired; responses 503 x 5, 504 x 2',
      ]);
    });

    it('names generator lag of an aborted run', () => {
      const result = invalidResult();
      result.harness.reasons = ['scheduler stalled 900 ms', stoppedEarlyReason(undefined)];
      const aborted = { reason: 'abort-rule' as const, detail: 'error-rate fired', atS: 12 };
      const verdict = decideVerdict({ ...journalOf(healthy), aborted }, result);
      assert.equal(verdict.status, 'aborted');
      assert.equal(verdict.reasons.length, 2);
      assert.equal(
        verdict.reasons[1],
        'load generator behind schedule in this run: scheduler stalled 900 ms; the failures may come from an overloaded machine, so rerun the drill on a quieter machine or at a lower --time-scale before changing the policy',
      );
    });

    it('deviates when rollback left a fault', () => {
      const journal = { ...journalOf(healthy), cleanAfterRollback: false, leftovers: ['toxic'] };
      const verdict = decideVerdict(journal, invalidResult());
      assert.equal(verdict.status, 'deviated');
    });
  });
});
