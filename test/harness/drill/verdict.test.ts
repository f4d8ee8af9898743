import assert from 'node:assert/strict';

import { checkSteadyState } from '../../../src/harness/drill/probes.js';
import type { DrillSpec, ProbeSpec } from '../../../src/harness/drill/spec.js';
import { decideVerdict } from '../../../src/harness/drill/verdict.js';
import { stoppedEarlyReason } from '../../../src/harness/load/health.js';
import { LatencyBySecond } from '../../../src/harness/load/latency-by-second.js';
import { topologyFromLoad } from '../../../src/harness/report/from-load.js';
import type {
  BreakerRecord,
  DrillJournal,
  FaultRecord,
  SeriesPoint,
  TopologyResult,
} from '../../../src/harness/report/types.js';
import { sampleLoadResult } from '../report/sample-load-result.js';
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
      result.harness = {
        ...result.harness,
        valid: false,
        reasons: ['scheduler stalled 900 ms'],
        behindMs: 900,
      };
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
        // 0.9 s behind in 12 s is 7.5%, more than the 3.6% of the sample's requests that failed.
        'load generator behind schedule in this run: scheduler stalled 900 ms; it was behind ' +
          'for 7.5% of the 12.00 s before the abort, and 3.6% of ended requests failed, so the ' +
          'failures may come from an overloaded machine; rerun the drill on a quieter machine ' +
          'or at a lower --time-scale before changing the policy',
      );
    });

    it('deviates when rollback left a fault', () => {
      const journal = { ...journalOf(healthy), cleanAfterRollback: false, leftovers: ['toxic'] };
      const verdict = decideVerdict(journal, invalidResult());
      assert.equal(verdict.status, 'deviated');
    });
  });

  describe('of an aborted run', () => {
    const healthy = series(
      () => 10,
      () => 10,
    );
    const aborted = { reason: 'abort-rule' as const, detail: 'error-rate fired', atS: 32 };

    /** Returns the fault records of provider-outage, cut by an abort at 32 s. */
    function faults(): FaultRecord[] {
      return [
        {
          id: 'primary-outage',
          kind: 'provider-fault',
          target: 'provider-a',
          description: 'errorRate=1 errorStatus=503',
          startS: 20,
          endS: 50,
          appliedAtS: 20.01,
          removedAtS: 32.1,
        },
        {
          id: 'fallback-latency',
          kind: 'toxic',
          target: 'provider-b',
          description: 'latency {"latency":1500,"jitter":200}',
          startS: 30,
          endS: 45,
          appliedAtS: 30,
          removedAtS: 32.1,
        },
      ];
    }

    function breaker(
      provider: string,
      model: string,
      opens: { atS: number; reason: string }[],
    ): BreakerRecord {
      return {
        provider,
        model,
        startState: 'closed',
        endState: opens.length === 0 ? 'closed' : 'open',
        openS: 0,
        transitions: opens.flatMap((open, index) => [
          ...(index === 0
            ? []
            : [{ atS: open.atS - 0.5, from: 'open' as const, to: 'half-open' as const }]),
          {
            atS: open.atS,
            from: index === 0 ? ('closed' as const) : ('half-open' as const),
            to: 'open' as const,
            reason: open.reason,
          },
        ]),
      };
    }

    /** Builds an aborted journal of provider-outage whose breakers are `targets`. */
    function abortedJournal(targets: BreakerRecord[]): DrillJournal {
      return {
        ...journalOf(healthy),
        aborted,
        faults: faults(),
        timings: [
          {
            faultId: 'primary-outage',
            primary: 'provider-a',
            fallback: 'provider-b',
            detectionS: 2,
            recoveryS: null,
          },
        ],
        breakers: { untilS: 32.5, targets },
      };
    }

    /** Builds a result stopped by the abort, with `behindMs` behind schedule and `successRate`. */
    function abortedResult(behindMs: number | undefined, successRate: number): TopologyResult {
      const result = sampleReport().topologies[0];
      assert.ok(result);
      result.successRate = successRate;
      result.statusCounts = { '200': 765, '503': 422, '504': 12, '502': 1 };
      result.harness = {
        ...result.harness,
        valid: false,
        reasons: [
          'scheduler behind schedule by over 50 ms for 3100 ms in 12 stalls, over the limit of 1200 ms',
          stoppedEarlyReason(undefined),
        ],
      };
      if (behindMs === undefined) delete result.harness.behindMs;
      else result.harness.behindMs = behindMs;
      return result;
    }

    const FALLBACK_OPENED = breaker('provider-b', 'claude-sonnet', [
      {
        atS: 31.92,
        reason: 'failure threshold reached, last error first_token_timeout; half-open in 15000 ms',
      },
    ]);
    const PRIMARY_OPENED = breaker('provider-a', 'gpt-4o', [
      {
        atS: 21.4,
        reason: 'failure threshold reached, last error status_5xx; half-open in 15000 ms',
      },
    ]);

    it('names the opened fallback breaker first', () => {
      const journal = abortedJournal([
        PRIMARY_OPENED,
        FALLBACK_OPENED,
        breaker('provider-a', 'gpt-4o-mini', []),
      ]);
      const verdict = decideVerdict(journal, abortedResult(3100, 0.6375));
      assert.equal(verdict.status, 'aborted');
      assert.equal(
        verdict.reasons[0],
        'aborted at 32.00 s: error-rate fired; responses 503 x 422, 504 x 12, 502 x 1',
      );
      assert.equal(
        verdict.reasons[1],
        'breakers opened during the drill: provider-b/claude-sonnet (fallback of provider-a) ' +
          'opened at 31.92 s, last error first_token_timeout while fault fallback-latency ' +
          '(latency {"latency":1500,"jitter":200}) was active on provider-b, so compare the ' +
          "route's firstTokenTimeoutMs with the latency it adds; provider-a/gpt-4o opened at " +
          '21.40 s, last error status_5xx while fault primary-outage ' +
          '(errorRate=1 errorStatus=503) was active on provider-a',
      );
    });

    it('counts the opens of a breaker', () => {
      const reopened = breaker('provider-a', 'gpt-4o', [
        {
          atS: 21.4,
          reason: 'failure threshold reached, last error status_5xx; half-open in 15000 ms',
        },
        {
          atS: 30.9,
          reason: 'half-open probe failed with connection_error; half-open in 15000 ms',
        },
      ]);
      const verdict = decideVerdict(abortedJournal([reopened]), abortedResult(3100, 0.6375));
      assert.equal(
        verdict.reasons[1],
        'breakers opened during the drill: provider-a/gpt-4o opened 2 times, last at 30.90 s, ' +
          'last error connection_error while fault primary-outage ' +
          '(errorRate=1 errorStatus=503) was active on provider-a',
      );
    });

    it('names no breaker when none opened', () => {
      const journal = abortedJournal([breaker('provider-b', 'claude-sonnet', [])]);
      const verdict = decideVerdict(journal, abortedResult(3100, 0.6375));
      assert.ok(
        verdict.reasons.every((reason) => !reason.startsWith('breakers opened')),
        verdict.reasons.join('\n'),
      );
    });

    it('leaves opened breakers out of a finished drill', () => {
      // provider-a's breaker opens in every passing provider-outage drill.
      const journal = { ...abortedJournal([PRIMARY_OPENED]), aborted: null };
      const verdict = decideVerdict(journal, null);
      assert.equal(verdict.status, 'passed');
      assert.deepEqual(verdict.reasons, []);
    });

    it('withholds the rerun advice for small lag', () => {
      // 3.1 s behind in 32 s is 9.7%, while 36.3% of the ended requests failed.
      const verdict = decideVerdict(abortedJournal([FALLBACK_OPENED]), abortedResult(3100, 0.6375));
      assert.equal(verdict.reasons.length, 3);
      assert.equal(
        verdict.reasons[2],
        'load generator behind schedule in this run: scheduler behind schedule by over 50 ms ' +
          'for 3100 ms in 12 stalls, over the limit of 1200 ms; it was behind for 9.7% of the ' +
          '32.00 s before the abort, and 36.3% of ended requests failed, so machine lag ' +
          'directly explains an estimated 26.7% of the failures. The rest likely come from ' +
          'the platform, though calls that the lag delays past a timeout can also open a ' +
          'breaker, whose failures outlast the lag',
      );
    });

    it('gives the rerun advice for large lag', () => {
      // 16 s behind in 32 s is 50%, more than the 36.3% of ended requests that failed.
      const verdict = decideVerdict(abortedJournal([]), abortedResult(16_000, 0.6375));
      assert.equal(verdict.reasons.length, 2);
      assert.equal(
        verdict.reasons[1],
        'load generator behind schedule in this run: scheduler behind schedule by over 50 ms ' +
          'for 3100 ms in 12 stalls, over the limit of 1200 ms; it was behind for 50.0% of the ' +
          '32.00 s before the abort, and 36.3% of ended requests failed, so the failures may ' +
          'come from an overloaded machine; rerun the drill on a quieter machine or at a lower ' +
          '--time-scale before changing the policy',
      );
    });

    it('gives the rerun advice at equal shares', () => {
      // 8 s behind in 32 s is 25%, as many as the 25% of ended requests that failed.
      const verdict = decideVerdict(abortedJournal([]), abortedResult(8000, 0.75));
      assert.match(verdict.reasons[1] ?? '', /so the failures may come from an overloaded machine/);
    });

    it('advises a rerun without a behind time', () => {
      const verdict = decideVerdict(abortedJournal([]), abortedResult(undefined, 0.6375));
      assert.match(
        verdict.reasons[1] ?? '',
        /over the limit of 1200 ms; the failures may come from an overloaded machine, so rerun /,
      );
    });
  });
});

describe('decideVerdict of a run its abort cut', () => {
  // The fault starts at 5 s and a signal aborts the drill 20 ms later, while requests are in
  // flight. In second 4 one request succeeds and the abort cuts 6 more, as in a measured run.
  const cutSpec: DrillSpec = {
    ...spec,
    faults: [
      {
        kind: 'provider-fault',
        id: 'outage',
        provider: 'provider-a',
        atS: 5,
        durationS: 3,
        faults: { errorRate: 1, errorStatus: 503 },
      },
    ],
  };
  const abortedAtS = 5.02;

  function cutRun(): { journal: DrillJournal; result: TopologyResult } {
    const load = sampleLoadResult();
    load.drain = { timeoutSec: 0, endedBy: 'signal', aborted: 6 };
    load.statusCodes = { '200': 4 };
    load.timeSeries = [0, 1, 1, 1, 1].map((successes, second) => ({
      second,
      requests: 2,
      successes,
      failures: 0,
      aborted: second === 4 ? 6 : 0,
      p95Ms: 1000,
    }));
    const result = topologyFromLoad(load, {
      topology: 'unit',
      failovers: [],
      cost: { meanUsd: 0.01, p95Usd: 0.02, totalUsd: 0.04, byTenant: [], byRoute: [] },
    });
    const journal: DrillJournal = {
      name: cutSpec.name,
      steadyState: checkSteadyState(cutSpec, abortedAtS, {
        series: result.timeSeries,
        latencies: new LatencyBySecond(),
        samples: [],
      }),
      faults: [],
      timings: [],
      aborted: { reason: 'signal', detail: 'drill interrupted by SIGINT', atS: abortedAtS },
      rollback: [],
      cleanAfterRollback: true,
      leftovers: [],
    };
    return { journal, result };
  }

  it('adds only the cut count', () => {
    const { journal, result } = cutRun();
    const verdict = decideVerdict(journal, result);
    assert.equal(verdict.status, 'aborted');
    assert.deepEqual(verdict.reasons, [
      'aborted at 5.02 s: drill interrupted by SIGINT; 6 requests in flight cut by the ' +
        'abort, left out of the series and the probes',
    ]);
  });

  it('passes the window before the abort', () => {
    const [before] = cutRun().journal.steadyState;
    assert.equal(before?.phase, 'before');
    assert.equal(before?.toS, 5);
    assert.equal(before?.passed, true);
    assert.equal(before?.probes[0]?.value, 1);
  });

  it('leaves the 20 ms window unchecked', () => {
    const during = cutRun().journal.steadyState[1];
    assert.equal(during?.phase, 'during');
    assert.equal(during?.fromS, 5);
    assert.equal(during?.toS, abortedAtS);
    assert.equal(during?.passed, null);
    assert.equal(during?.probes[0]?.passed, null);
    assert.equal(
      during?.probes[0]?.notChecked,
      'the window 5-5.02 s contains no whole second, so it cannot contain a sample',
    );
  });
});
