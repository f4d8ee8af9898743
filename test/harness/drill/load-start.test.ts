import assert from 'node:assert/strict';

import type { DrillDeps, FaultDriver, LoadStream } from '../../../src/harness/drill/deps.js';
import { runDrill } from '../../../src/harness/drill/runner.js';
import type { DrillSpec } from '../../../src/harness/drill/spec.js';
import { LatencyBySecond } from '../../../src/harness/load/latency-by-second.js';
import type { SeriesPoint, TopologyResult } from '../../../src/harness/report/types.js';
import { type SteppingClock, steppingClock } from './stepping-clock.js';

/** Set-up time of the fake main load, from `startLoad` to its second 0. */
const START_DELAY_MS = 700;

/** Send times of the fake load's requests within each second: 10 requests, 100 ms apart. */
const SEND_OFFSETS_MS = Array.from({ length: 10 }, (_, index) => 50 + index * 100);

const OUTAGE_SPEC: DrillSpec = {
  name: 'load-start-drill',
  description: 'provider-a returns 503 from 5 s to 10 s',
  scenario: 'unit',
  durationS: 15,
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
        duringTolerance: 1,
      },
    ],
  },
  faults: [
    {
      kind: 'provider-fault',
      id: 'outage',
      provider: 'provider-a',
      atS: 5,
      durationS: 5,
      faults: { errorRate: 1, errorStatus: 503 },
    },
  ],
  abortRules: [],
};

/** Monotonic times of the clock at which the fault driver applied and removed the fault. */
interface FaultTimes {
  appliedMs: number | undefined;
  removedMs: number | undefined;
}

function recordingDriver(clock: SteppingClock, times: FaultTimes): FaultDriver {
  return {
    apply: async () => {
      times.appliedMs = clock.monotonic();
    },
    remove: async () => {
      times.removedMs = clock.monotonic();
    },
    rollback: async () => [],
    leftovers: async () => [],
  };
}

/**
 * A main load whose second 0 comes `START_DELAY_MS` after `startLoad`. Each request fails
 * when the fault was active at its send time, so each second's counts show which part of it
 * the fault covered.
 */
function faultSensitiveLoad(clock: SteppingClock, times: FaultTimes): LoadStream {
  const originMs = clock.monotonic() + START_DELAY_MS;
  const started = clock.sleep(START_DELAY_MS).then(() => originMs);
  const latencyBySecond = new LatencyBySecond();
  const failsAt = (ms: number): boolean =>
    times.appliedMs !== undefined && ms >= times.appliedMs && ms < (times.removedMs ?? Infinity);
  let resolveResult: (result: TopologyResult) => void = () => undefined;
  const result = new Promise<TopologyResult>((resolve) => {
    resolveResult = resolve;
  });
  const series = (): SeriesPoint[] => {
    const seconds = Math.max(0, Math.floor((clock.monotonic() - originMs) / 1000));
    return Array.from({ length: seconds }, (_, t) => {
      const sends = SEND_OFFSETS_MS.map((offsetMs) => originMs + t * 1000 + offsetMs);
      const successes = sends.filter((ms) => !failsAt(ms)).length;
      return {
        t,
        requests: sends.length,
        successes,
        throughputRpm: sends.length * 60,
        successRate: successes / sends.length,
        p95S: 1,
        failovers: 0,
        servedBy: { 'provider-a': successes },
      };
    });
  };
  return {
    started,
    series,
    latencyBySecond,
    stop() {
      const points = series();
      for (const point of points) {
        for (let index = 0; index < point.requests; index += 1) {
          latencyBySecond.record(point.t, 1000);
        }
      }
      const requests = points.reduce((sum, point) => sum + point.requests, 0);
      const successes = points.reduce((sum, point) => sum + point.successes, 0);
      resolveResult({
        topology: 'fake',
        settings: {},
        throughputRpm: 600,
        requests,
        successRate: successes / requests,
        latency: { p50S: 1, p95S: 1, p99S: 1 },
        perTenant: [],
        perRoute: [],
        statusCounts: { '200': successes, '503': requests - successes },
        failovers: [],
        cost: { meanUsd: 0, p95Usd: 0, totalUsd: 0, byTenant: [], byRoute: [] },
        harness: { valid: true, reasons: [], lagP99Ms: 1, droppedSends: 0, lateSends: 0 },
        timeSeries: points,
      });
    },
    result,
  };
}

describe('drill clock origin', () => {
  async function runOutage(): Promise<{
    outcome: Awaited<ReturnType<typeof runDrill>>;
    times: FaultTimes;
  }> {
    const clock = steppingClock();
    const times: FaultTimes = { appliedMs: undefined, removedMs: undefined };
    const deps: DrillDeps = {
      clock,
      faults: recordingDriver(clock, times),
      startLoad: () => faultSensitiveLoad(clock, times),
    };
    const outcome = await runDrill(OUTAGE_SPEC, deps);
    return { outcome, times };
  }

  it('applies faults on the load series seconds', async () => {
    const { outcome, times } = await runOutage();
    // The load's second 0 is at 700 ms of the clock, so the drill's 5-10 s is 5700-10700 ms.
    assert.equal(times.appliedMs, START_DELAY_MS + 5000);
    assert.equal(times.removedMs, START_DELAY_MS + 10_000);
    assert.equal(outcome.journal.faults[0]?.appliedAtS, 5);
    assert.equal(outcome.journal.faults[0]?.removedAtS, 10);
  });

  it('fails exactly the fault window seconds', async () => {
    const { outcome } = await runOutage();
    const failing = outcome.result.timeSeries
      .filter((point) => point.successes < point.requests)
      .map((point) => [point.t, point.successes]);
    assert.deepEqual(failing, [
      [5, 0],
      [6, 0],
      [7, 0],
      [8, 0],
      [9, 0],
    ]);
  });

  it('probes read the window seconds', async () => {
    const { outcome } = await runOutage();
    const windows = outcome.journal.steadyState.map((check) => [
      check.phase,
      check.fromS,
      check.toS,
      check.probes[0]?.value,
    ]);
    assert.deepEqual(windows, [
      ['before', 0, 5, 1],
      ['during', 5, 10, 0],
      ['after', 11, 15, 1],
    ]);
    assert.equal(outcome.verdict.status, 'passed');
  });

  it('aborts while the load sets up', async () => {
    const clock = steppingClock();
    const times: FaultTimes = { appliedMs: undefined, removedMs: undefined };
    const controller = new AbortController();
    let stopped = false;
    const deps: DrillDeps = {
      clock,
      faults: recordingDriver(clock, times),
      startLoad: () => {
        const stream = faultSensitiveLoad(clock, times);
        return {
          ...stream,
          // The set-up never ends, so only the abort ends the wait.
          started: new Promise<number>(() => undefined),
          stop() {
            stopped = true;
            stream.stop();
          },
        };
      },
    };
    const run = runDrill(OUTAGE_SPEC, deps, { signal: controller.signal });
    controller.abort(new Error('interrupted'));
    const outcome = await run;
    assert.equal(outcome.verdict.status, 'aborted');
    assert.equal(outcome.journal.aborted?.reason, 'signal');
    assert.equal(outcome.journal.aborted?.atS, 0);
    assert.equal(outcome.journal.faults[0]?.appliedAtS, null);
    assert.equal(times.appliedMs, undefined);
    assert.equal(stopped, true);
  });
});
