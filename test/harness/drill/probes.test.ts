import assert from 'node:assert/strict';

import { checkSteadyState, phaseWindows } from '../../../src/harness/drill/probes.js';
import type { DrillSpec, FaultStep, ProbeSpec } from '../../../src/harness/drill/spec.js';
import { LatencyBySecond } from '../../../src/harness/load/latency-by-second.js';
import type { SeriesPoint, SteadyStateCheck } from '../../../src/harness/report/types.js';

function burst(id: string, atS: number, durationS: number): FaultStep {
  return { kind: 'tenant-burst', id, tenant: 'tenant-noisy', atS, durationS, quotaMultiplier: 5 };
}

const SUCCESS: ProbeSpec = {
  name: 'success-rate',
  source: 'series',
  measure: 'successRate',
  comparator: 'min',
  threshold: 0.99,
  tolerance: 0,
  duringTolerance: 0.5,
};

/** A 60 s drill with faults from 10 s to 20 s and from 40 s to 50 s, and 5 s of settling. */
function spec(overrides: Partial<DrillSpec> = {}): DrillSpec {
  return {
    name: 'unit-drill',
    description: 'two bursts with a gap',
    scenario: 'unit',
    durationS: 60,
    steadyState: { settleS: 5, probes: [SUCCESS] },
    faults: [burst('first', 10, 10), burst('second', 40, 10)],
    abortRules: [],
    ...overrides,
  };
}

function windowsOf(drill: DrillSpec, endedAtS = drill.durationS): [string, number, number][] {
  return phaseWindows(drill, endedAtS).map((window) => [window.phase, window.fromS, window.toS]);
}

/** Sixty seconds of 10 requests each; `successes(t)` succeed and each takes `latencyS(t)`. */
function seconds(
  successes: (t: number) => number,
  latencyS: (t: number) => number = () => 1,
  failovers: (t: number) => number = () => 0,
): { series: SeriesPoint[]; latencies: LatencyBySecond } {
  const latencies = new LatencyBySecond();
  const series = Array.from({ length: 60 }, (_, t) => {
    for (let index = 0; index < 10; index += 1) latencies.record(t, latencyS(t) * 1000);
    return {
      t,
      requests: 10,
      successes: successes(t),
      throughputRpm: 600,
      successRate: successes(t) / 10,
      p95S: latencyS(t),
      failovers: failovers(t),
      servedBy: {},
    };
  });
  return { series, latencies };
}

function check(
  drill: DrillSpec,
  inputs: { series: SeriesPoint[]; latencies: LatencyBySecond },
): SteadyStateCheck[] {
  return checkSteadyState(drill, drill.durationS, { ...inputs, samples: [] });
}

function probeIn(checks: SteadyStateCheck[], phase: string, fromS: number, name: string) {
  const window = checks.find((entry) => entry.phase === phase && entry.fromS === fromS);
  return window?.probes.find((probe) => probe.name === name);
}

describe('phaseWindows', () => {
  it('splits two faults with a gap', () => {
    assert.deepEqual(windowsOf(spec()), [
      ['before', 0, 10],
      ['during', 10, 20],
      ['between', 25, 40],
      ['during', 40, 50],
      ['after', 55, 60],
    ]);
  });

  it('merges overlapping faults', () => {
    const drill = spec({ faults: [burst('a', 10, 10), burst('b', 15, 10), burst('c', 12, 2)] });
    assert.deepEqual(windowsOf(drill), [
      ['before', 0, 10],
      ['during', 10, 25],
      ['after', 30, 60],
    ]);
  });

  it('merges back-to-back faults', () => {
    const drill = spec({ faults: [burst('a', 10, 10), burst('b', 20, 10)] });
    assert.deepEqual(windowsOf(drill), [
      ['before', 0, 10],
      ['during', 10, 30],
      ['after', 35, 60],
    ]);
  });

  it('leaves out a gap within the settling time', () => {
    // The gap from 20 s to 25.5 s leaves 20.5 s after settling: no whole second.
    const drill = spec({ faults: [burst('a', 10, 10), burst('b', 25.5, 10)] });
    assert.deepEqual(windowsOf(drill), [
      ['before', 0, 10],
      ['during', 10, 20],
      ['during', 25.5, 35.5],
      ['after', 40.5, 60],
    ]);
  });

  it('ends every window by the abort', () => {
    assert.deepEqual(windowsOf(spec(), 30), [
      ['before', 0, 10],
      ['during', 10, 20],
      ['between', 25, 30],
      ['during', 40, 30],
      ['after', 55, 30],
    ]);
  });
});

describe('checkSteadyState', () => {
  it('holds a gap second to the normal tolerance', () => {
    // Half the requests fail at 30 s, when no fault is active: 145 of 150 over the gap.
    const checks = check(
      spec(),
      seconds((t) => (t === 30 ? 5 : 10)),
    );
    const gap = probeIn(checks, 'between', 25, 'success-rate');
    assert.equal(gap?.value, 0.9666666666666667);
    assert.equal(gap?.tolerance, 0);
    assert.equal(gap?.passed, false);
    assert.equal(checks.find((entry) => entry.phase === 'between')?.passed, false);
  });

  it('keeps gap seconds out of during', () => {
    // Every request fails at 30 s; the during windows see only fault seconds.
    const checks = check(
      spec(),
      seconds((t) => (t === 30 ? 0 : 10)),
    );
    assert.equal(probeIn(checks, 'during', 10, 'success-rate')?.value, 1);
    assert.equal(probeIn(checks, 'during', 40, 'success-rate')?.value, 1);
  });

  it('judges the second fault as during', () => {
    // 60% succeed while the second fault is active: within the during tolerance of 0.5.
    const checks = check(
      spec(),
      seconds((t) => (t >= 40 && t < 50 ? 6 : 10)),
    );
    const second = probeIn(checks, 'during', 40, 'success-rate');
    assert.equal(second?.value, 0.6);
    assert.equal(second?.tolerance, 0.5);
    assert.equal(second?.passed, true);
  });

  it('takes p95 over the requests of a window', () => {
    // Nine fast seconds and one slow one before the faults: 10 of 100 requests take 20 s,
    // so the p95 is 20 s, while the request-weighted mean of the per-second p95s is 2.9 s.
    const p95: ProbeSpec = {
      name: 'p95-latency',
      source: 'series',
      measure: 'p95S',
      comparator: 'max',
      threshold: 8,
      tolerance: 1,
    };
    const drill = spec({ steadyState: { settleS: 5, probes: [p95] } });
    const checks = check(
      drill,
      seconds(
        () => 10,
        (t) => (t === 5 ? 20 : 1),
      ),
    );
    const before = probeIn(checks, 'before', 0, 'p95-latency');
    assert.equal(before?.value, 20);
    assert.equal(before?.passed, false);
  });

  describe('with a probe that cannot fail', () => {
    it('marks a min at or below 0 as not checked', () => {
      // 0.99 - 0.99 admits every success rate in the during windows.
      const probe = { ...SUCCESS, duringTolerance: 0.99 };
      const checks = check(
        spec({ steadyState: { settleS: 5, probes: [probe] } }),
        seconds((t) => (t >= 10 && t < 20 ? 0 : 10)),
      );
      const during = probeIn(checks, 'during', 10, 'success-rate');
      assert.equal(during?.value, 0);
      assert.equal(during?.passed, null);
      assert.equal(
        during?.notChecked,
        'the tolerance admits every value: successRate runs from 0 to 1, and no value is ' +
          'below the limit 0',
      );
      assert.equal(checks.find((entry) => entry.phase === 'during')?.passed, null);
    });

    it('marks a success max at or above 1 as not checked', () => {
      const probe: ProbeSpec = { ...SUCCESS, comparator: 'max', threshold: 0.5, tolerance: 0.5 };
      const checks = check(
        spec({ steadyState: { settleS: 5, probes: [probe] } }),
        seconds(() => 10),
      );
      const before = probeIn(checks, 'before', 0, 'success-rate');
      assert.equal(before?.passed, null);
      assert.match(before?.notChecked ?? '', /no value is above the limit 1$/);
    });

    it('checks the window around a skipped probe', () => {
      const probe = { ...SUCCESS, duringTolerance: 0.99 };
      const checks = check(
        spec({ steadyState: { settleS: 5, probes: [probe] } }),
        seconds((t) => (t === 5 ? 0 : 10)),
      );
      assert.equal(probeIn(checks, 'before', 0, 'success-rate')?.passed, false);
      assert.equal(probeIn(checks, 'before', 0, 'success-rate')?.notChecked, undefined);
    });

    it('skips during windows on checkDuring false', () => {
      const probe: ProbeSpec = {
        name: 'failover-rate',
        source: 'series',
        measure: 'failoverRate',
        comparator: 'max',
        threshold: 0.01,
        tolerance: 0,
        checkDuring: false,
      };
      const checks = check(
        spec({ steadyState: { settleS: 5, probes: [probe] } }),
        seconds(
          () => 10,
          () => 1,
          (t) => (t >= 10 && t < 20 ? 10 : 0),
        ),
      );
      const during = probeIn(checks, 'during', 10, 'failover-rate');
      assert.equal(during?.value, 1);
      assert.equal(during?.passed, null);
      assert.equal(
        during?.notChecked,
        'the drill spec leaves it out of the during windows (checkDuring: false)',
      );
      assert.equal(probeIn(checks, 'between', 25, 'failover-rate')?.passed, true);
    });

    it('still checks a failover max above 1', () => {
      // A request can fail over more than once, so 1.01 failovers per request can be exceeded.
      const probe: ProbeSpec = {
        name: 'failover-rate',
        source: 'series',
        measure: 'failoverRate',
        comparator: 'max',
        threshold: 0.01,
        tolerance: 0,
        duringTolerance: 1,
      };
      const checks = check(
        spec({ steadyState: { settleS: 5, probes: [probe] } }),
        seconds(
          () => 10,
          () => 1,
          (t) => (t >= 10 && t < 20 ? 20 : 0),
        ),
      );
      const during = probeIn(checks, 'during', 10, 'failover-rate');
      assert.equal(during?.value, 2);
      assert.equal(during?.passed, false);
    });
  });
});

describe('checkSteadyState queue measures', () => {
  const OLDEST: ProbeSpec = {
    name: 'queue-oldest-age',
    source: 'series',
    measure: 'queueOldestAgeS',
    comparator: 'max',
    threshold: 5,
    tolerance: 0,
    checkDuring: false,
  };

  /** Sixty seconds whose oldest age is `ageS(t)`; seconds where it returns undefined have no read. */
  function queueSeries(ageS: (t: number) => number | undefined): SeriesPoint[] {
    return Array.from({ length: 60 }, (_, t) => {
      const point: SeriesPoint = {
        t,
        requests: 10,
        successes: 10,
        throughputRpm: 600,
        successRate: 1,
        p95S: 1,
        failovers: 0,
        servedBy: {},
      };
      const age = ageS(t);
      if (age !== undefined) {
        point.queueOldestAgeS = age;
        point.queueDepth = Math.round(age * 3);
      }
      return point;
    });
  }

  const drill = spec({ steadyState: { settleS: 5, probes: [OLDEST] } });

  it('takes the maximum of the window', () => {
    const series = queueSeries((t) => (t === 52 ? 6.5 : 0.5));
    const checks = check(drill, { series, latencies: new LatencyBySecond() });
    const after = probeIn(checks, 'after', 55, 'queue-oldest-age');
    assert.equal(after?.value, 0.5);
    const between = probeIn(checks, 'between', 25, 'queue-oldest-age');
    assert.equal(between?.value, 0.5);
    // Second 52 lies in the settling time after the second fault, which no window checks.
    assert.equal(
      checks.some((entry) => entry.probes.some((probe) => probe.value === 6.5)),
      false,
    );
  });

  it('fails a window over the limit', () => {
    const series = queueSeries((t) => (t === 30 ? 12 : 0.5));
    const between = probeIn(
      check(drill, { series, latencies: new LatencyBySecond() }),
      'between',
      25,
      'queue-oldest-age',
    );
    assert.equal(between?.value, 12);
    assert.equal(between?.passed, false);
  });

  it('has no value without reads', () => {
    const series = queueSeries(() => undefined);
    const before = probeIn(
      check(drill, { series, latencies: new LatencyBySecond() }),
      'before',
      0,
      'queue-oldest-age',
    );
    assert.equal(before?.value, null);
    assert.equal(before?.passed, false);
  });
});

describe('checkSteadyState short windows', () => {
  const notChecked = (span: string) =>
    `the window ${span} s contains no whole second, so it cannot contain a sample`;

  function checkUntil(
    endedAtS: number,
    inputs: { series: SeriesPoint[]; latencies: LatencyBySecond },
    drill = spec(),
    samples: { atS: number; values: Record<string, number> }[] = [],
  ): SteadyStateCheck[] {
    return checkSteadyState(drill, endedAtS, { ...inputs, samples });
  }

  it('skips a 20 ms window with a reason', () => {
    const checks = checkUntil(
      10.02,
      seconds(() => 10),
    );
    const during = checks.find((entry) => entry.phase === 'during');
    assert.equal(during?.toS, 10.02);
    assert.equal(during?.passed, null);
    assert.equal(during?.probes[0]?.value, null);
    assert.equal(during?.probes[0]?.passed, null);
    assert.equal(during?.probes[0]?.notChecked, notChecked('10-10.02'));
  });

  it('still checks the window before it', () => {
    const checks = checkUntil(
      10.02,
      seconds(() => 10),
    );
    const before = probeIn(checks, 'before', 0, 'success-rate');
    assert.equal(before?.value, 1);
    assert.equal(before?.passed, true);
  });

  it('skips a window just under a second', () => {
    const during = probeIn(
      checkUntil(
        10.9,
        seconds(() => 10),
      ),
      'during',
      10,
      'success-rate',
    );
    assert.equal(during?.passed, null);
    assert.equal(during?.notChecked, notChecked('10-10.9'));
  });

  it('skips a short before window', () => {
    const before = probeIn(
      checkUntil(
        0.5,
        seconds(() => 10),
      ),
      'before',
      0,
      'success-rate',
    );
    assert.equal(before?.passed, null);
    assert.equal(before?.notChecked, notChecked('0-0.5'));
  });

  it('fails a whole second without data', () => {
    const inputs = seconds(() => 10);
    inputs.series = inputs.series.map((point) =>
      point.t === 10 ? { ...point, requests: 0, successes: 0, successRate: 0 } : point,
    );
    const during = probeIn(checkUntil(11.02, inputs), 'during', 10, 'success-rate');
    assert.equal(during?.value, null);
    assert.equal(during?.passed, false);
    assert.equal(during?.notChecked, undefined);
  });

  describe('with a metrics probe', () => {
    const QUEUE: ProbeSpec = {
      name: 'queue-depth',
      source: 'metrics',
      measure: 'scalegate_queue_depth',
      comparator: 'max',
      threshold: 100,
      tolerance: 0,
    };
    const drill = spec({ steadyState: { settleS: 5, probes: [QUEUE] } });

    it('checks a scrape inside a short window', () => {
      const samples = [{ atS: 10.01, values: { scalegate_queue_depth: 250 } }];
      const during = probeIn(
        checkUntil(
          10.02,
          seconds(() => 10),
          drill,
          samples,
        ),
        'during',
        10,
        'queue-depth',
      );
      assert.equal(during?.value, 250);
      assert.equal(during?.passed, false);
    });

    it('skips a short window without a scrape', () => {
      const during = probeIn(
        checkUntil(
          10.02,
          seconds(() => 10),
          drill,
        ),
        'during',
        10,
        'queue-depth',
      );
      assert.equal(during?.passed, null);
      assert.equal(during?.notChecked, notChecked('10-10.02'));
    });
  });
});
