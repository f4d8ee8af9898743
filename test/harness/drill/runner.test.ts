import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type {
  BreakerChangeAt,
  BreakerWatch,
  DrillDeps,
  DrillWorkers,
  FaultDriver,
  LoadRequest,
} from '../../../src/harness/drill/deps.js';
import { isDrillSpecError } from '../../../src/harness/drill/errors.js';
import { abortOnInterrupt } from '../../../src/harness/drill/interrupt.js';
import { buildDrillReport } from '../../../src/harness/drill/report.js';
import { runDrill } from '../../../src/harness/drill/runner.js';
import type { DrillSpec } from '../../../src/harness/drill/spec.js';
import { LatencyBySecond } from '../../../src/harness/load/latency-by-second.js';
import type { Report, ShedCount } from '../../../src/harness/report/types.js';
import { validateReport } from '../../../src/harness/report/validate.js';
import { writeReport } from '../../../src/harness/report/writer.js';
import { type SecondShape, fakeLoad } from './fake-load.js';
import { type FaultBench, startFaultBench } from './fixture.js';
import { type SteppingClock, steppingClock } from './stepping-clock.js';

/** provider-a serves until 5 s; provider-b carries traffic from 5 s to 9 s; provider-a again after. */
const failoverShape: SecondShape = (t): ReturnType<SecondShape> => {
  if (t >= 3 && t < 5) {
    return { requests: 10, successes: 10, p95S: 2, servedBy: { 'provider-a': 6, 'provider-b': 4 } };
  }
  if (t >= 5 && t < 9) {
    return { requests: 10, successes: 10, p95S: 3, servedBy: { 'provider-b': 10 }, failovers: 10 };
  }
  return { requests: 10, successes: 10, p95S: 1, servedBy: { 'provider-a': 10 } };
};

/** A burst of tenant-noisy from 2 s to 5 s at 10 times its quota. */
const NOISY_BURST: DrillSpec['faults'][number] = {
  kind: 'tenant-burst',
  id: 'noisy',
  tenant: 'tenant-noisy',
  atS: 2,
  durationS: 3,
  quotaMultiplier: 10,
};

function drillSpec(overrides: Partial<DrillSpec> = {}): DrillSpec {
  return {
    name: 'unit-drill',
    description: 'outage of provider-a with a latency toxic on provider-b',
    scenario: 'unit',
    durationS: 12,
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
        id: 'primary-outage',
        provider: 'provider-a',
        atS: 3,
        durationS: 5,
        faults: { errorRate: 1, errorStatus: 503 },
        failover: { fallback: 'provider-b' },
      },
      {
        kind: 'toxic',
        id: 'fallback-latency',
        proxy: 'provider-b',
        atS: 4,
        durationS: 2,
        toxic: { type: 'latency', attributes: { latency: 100 } },
      },
    ],
    abortRules: [],
    ...overrides,
  };
}

describe('runDrill', () => {
  let bench: FaultBench;
  let streams: ReturnType<typeof fakeLoad>[];
  let loadSignals: AbortSignal[];

  function deps(
    shape: SecondShape,
    extra: Partial<DrillDeps> = {},
    clock: SteppingClock = steppingClock(),
  ): DrillDeps {
    return {
      clock,
      faults: bench.driver,
      startLoad(request: LoadRequest, signal: AbortSignal) {
        const stream = fakeLoad(clock, request.kind === 'main' ? shape : () => burstSecond);
        streams.push(stream);
        loadSignals.push(signal);
        return stream;
      },
      ...extra,
    };
  }

  const burstSecond = { requests: 20, successes: 2, p95S: 1, servedBy: { 'provider-a': 2 } };

  beforeEach(async () => {
    bench = await startFaultBench();
    streams = [];
    loadSignals = [];
  });

  afterEach(async () => {
    await bench.close();
  });

  it('passes when the hypothesis holds', async () => {
    const outcome = await runDrill(drillSpec(), deps(failoverShape));
    assert.equal(outcome.verdict.status, 'passed');
    assert.deepEqual(outcome.verdict.reasons, []);
    assert.deepEqual(
      outcome.journal.steadyState.map((check) => [
        check.phase,
        check.fromS,
        check.toS,
        check.passed,
      ]),
      [
        ['before', 0, 3, true],
        ['during', 3, 8, true],
        ['after', 9, 12, true],
      ],
    );
    assert.equal(outcome.journal.cleanAfterRollback, true);
  });

  it('takes p95 from the stream latencies', async () => {
    // The series claims p95 1 s before the faults; the requests took 5 s.
    const slowBefore: SecondShape = (t) =>
      t < 3 ? { ...failoverShape(t), latenciesS: Array(10).fill(5) } : failoverShape(t);
    const p95 = {
      name: 'p95-latency',
      source: 'series' as const,
      measure: 'p95S',
      comparator: 'max' as const,
      threshold: 2,
      tolerance: 0,
      duringTolerance: 1,
    };
    const spec = drillSpec();
    const outcome = await runDrill(
      { ...spec, steadyState: { ...spec.steadyState, probes: [p95] } },
      deps(slowBefore),
    );
    const before = outcome.journal.steadyState[0]?.probes[0];
    assert.equal(before?.value, 5);
    assert.equal(before?.passed, false);
    assert.deepEqual(outcome.verdict.reasons, [
      'before 0-3 s: p95-latency 5 above maximum 2 (tolerance 0)',
    ]);
  });

  it('measures detection and recovery times', async () => {
    const outcome = await runDrill(drillSpec(), deps(failoverShape));
    assert.deepEqual(outcome.journal.timings, [
      {
        faultId: 'primary-outage',
        primary: 'provider-a',
        fallback: 'provider-b',
        detectionS: 3,
        recoveryS: 2,
      },
    ]);
  });

  it('applies and removes faults at their offsets', async () => {
    const outcome = await runDrill(drillSpec(), deps(failoverShape));
    const times = outcome.journal.faults.map((fault) => [
      fault.id,
      fault.appliedAtS,
      fault.removedAtS,
    ]);
    assert.deepEqual(times, [
      ['primary-outage', 3, 8],
      ['fallback-latency', 4, 6],
    ]);
  });

  it('rejects an invalid spec naming the field', async () => {
    const spec = drillSpec();
    const bad = { ...spec, faults: [spec.faults[0], { ...spec.faults[1], atS: 'soon' }] };
    await assert.rejects(runDrill(bad, deps(failoverShape)), (error: unknown) => {
      assert.ok(isDrillSpecError(error));
      assert.equal(error.field, 'faults[1].atS');
      assert.equal(error.message, 'invalid drill spec: faults[1].atS must be number, got "soon"');
      return true;
    });
    assert.equal(streams.length, 0);
  });

  it('rolls back every fault when a step throws', async () => {
    const spec = drillSpec();
    const broken = {
      kind: 'toxic' as const,
      id: 'missing-proxy',
      proxy: 'no-such-proxy',
      atS: 5,
      durationS: 1,
      toxic: { type: 'timeout' as const, attributes: { timeout: 0 } },
    };
    let beforeRollback: string[] = [];
    const faults: FaultDriver = {
      ...bench.driver,
      async rollback(steps) {
        beforeRollback = await bench.toxicsOn('provider-b');
        return bench.driver.rollback(steps);
      },
    };
    const steps = [...spec.faults, broken];
    const outcome = await runDrill({ ...spec, faults: steps }, deps(failoverShape, { faults }));
    assert.deepEqual(beforeRollback, ['scalegate-drill-fallback-latency']);
    assert.equal(outcome.verdict.status, 'aborted');
    assert.equal(outcome.journal.aborted?.reason, 'error');
    assert.equal(outcome.journal.aborted?.atS, 5);
    assert.match(outcome.journal.faults[2]?.error ?? '', /^apply failed: /);
    assert.deepEqual(await bench.toxicsOn('provider-b'), []);
    assert.deepEqual(bench.providerA.faults(), {});
    assert.equal(outcome.journal.cleanAfterRollback, true);
    assert.deepEqual(outcome.journal.leftovers, []);
    assert.equal(streams[0]?.stopped(), true);
  });

  it('stops the load when a fault step fails', async () => {
    const spec = drillSpec();
    const faults: FaultDriver = {
      ...bench.driver,
      async apply() {
        throw new Error('no control URL for provider provider-a');
      },
    };
    const outcome = await runDrill(spec, deps(failoverShape, { faults }));
    assert.equal(outcome.journal.aborted?.reason, 'error');
    assert.equal(loadSignals[0]?.aborted, true);
  });

  it('aborts when an abort rule fires', async () => {
    const failing: SecondShape = (t) =>
      t >= 3
        ? { requests: 10, successes: 2, p95S: 5, servedBy: { 'provider-b': 2 } }
        : failoverShape(t);
    const spec = drillSpec({
      abortRules: [
        {
          name: 'success-below-half',
          measure: 'successRate',
          comparator: 'below',
          threshold: 0.5,
          forS: 2,
        },
      ],
    });
    const outcome = await runDrill(spec, deps(failing));
    assert.equal(outcome.verdict.status, 'aborted');
    assert.deepEqual(outcome.journal.aborted, {
      reason: 'abort-rule',
      detail: 'success-below-half',
      atS: 5,
      value: 0.2,
    });
    // The fake load's failed requests are 429s, which the reason lists by status.
    assert.equal(
      outcome.verdict.reasons[0],
      'aborted at 5.00 s: success-below-half; responses 429 x 16',
    );
    assert.deepEqual(await bench.toxicsOn('provider-b'), []);
    assert.deepEqual(bench.providerA.faults(), {});
  });

  it('records a tenant burst outcome', async () => {
    const spec = drillSpec({ faults: [NOISY_BURST] });
    const outcome = await runDrill(spec, deps(failoverShape));
    assert.deepEqual(outcome.journal.faults[0]?.burst, {
      tenant: 'tenant-noisy',
      requests: 60,
      succeeded: 6,
      shed: 54,
    });
  });

  it('records a burst whose load fails', async () => {
    const spec = drillSpec({ faults: [NOISY_BURST] });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failing = deps(failoverShape);
      const startMain = failing.startLoad;
      failing.startLoad = (request, signal) => {
        if (request.kind === 'main') return startMain(request, signal);
        const result = Promise.reject(new Error('load target /healthz timed out after 2000 ms'));
        return {
          started: result,
          series: () => [],
          latencyBySecond: new LatencyBySecond(),
          stop: () => undefined,
          result,
        };
      };
      const outcome = await runDrill(spec, failing);
      assert.deepEqual(unhandled, []);
      assert.equal(
        outcome.journal.faults[0]?.error,
        'burst load failed: load target /healthz timed out after 2000 ms',
      );
      assert.equal(outcome.verdict.status, 'deviated');
      assert.match(outcome.verdict.reasons.join('\n'), /fault noisy failed: burst load failed/);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('rolls back and rejects when the main load fails', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failing = deps(failoverShape);
      const startLoad = failing.startLoad;
      let fail: (error: Error) => void = () => undefined;
      failing.startLoad = (request, signal) => {
        const stream = startLoad(request, signal);
        if (request.kind !== 'main') return stream;
        const result = new Promise<never>((_resolve, reject) => {
          fail = reject;
        });
        return { ...stream, result };
      };
      // The load fails once the outage fault at 3 s is applied.
      failing.faults = {
        ...bench.driver,
        async apply(step) {
          await bench.driver.apply(step);
          fail(new Error('load target /healthz timed out after 2000 ms'));
        },
      };
      await assert.rejects(
        runDrill(drillSpec(), failing),
        /load target \/healthz timed out after 2000 ms/,
      );
      assert.deepEqual(unhandled, []);
      assert.deepEqual(bench.providerA.faults(), {});
      assert.deepEqual(await bench.toxicsOn('provider-b'), []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  describe('with a breaker watch', () => {
    const GPT = { provider: 'provider-a', model: 'gpt-4o' };
    const SONNET = { provider: 'provider-b', model: 'claude-sonnet' };
    const TRIP = 'failure threshold reached, last error status_5xx; half-open in 4750 ms';

    /**
     * Runs the unit drill on a clock that reads 1.5 s at the load start. The breaker of
     * provider-a opens 0.25 s after the outage starts at 3 s, turns half-open as it ends
     * at 8 s, and a probe closes it 0.5 s later.
     */
    async function runWithBreakers(): Promise<{ report: Report; stopped: () => boolean }> {
      const clock = steppingClock();
      clock.advance(1500);
      const changes: BreakerChangeAt[] = [];
      let stopped = false;
      const watch: BreakerWatch = {
        initial: [
          { ...GPT, state: 'closed' },
          { ...SONNET, state: 'closed' },
        ],
        changes: () => changes,
        stop: () => {
          stopped = true;
        },
      };
      const onEvent: DrillDeps['onEvent'] = (event) => {
        if (event.type === 'fault-applied' && event.stepId === 'primary-outage') {
          const atMs = clock.monotonic() + 250;
          changes.push({ ...GPT, from: 'closed', to: 'open', reason: TRIP, atMs });
        }
        if (event.type === 'fault-removed' && event.stepId === 'primary-outage') {
          const atMs = clock.monotonic();
          changes.push({ ...GPT, from: 'open', to: 'half-open', atMs });
          const closedAtMs = atMs + 500;
          changes.push({ ...GPT, from: 'half-open', to: 'closed', atMs: closedAtMs });
        }
      };
      const outcome = await runDrill(
        drillSpec(),
        deps(failoverShape, { onEvent, watchBreakers: () => watch }, clock),
      );
      const report = buildDrillReport({
        outcome,
        environment: {
          commit: 'unknown',
          policyHash: '0'.repeat(64),
          engine: 'embedded',
          seed: 1,
          timeScale: 1,
          machine: { cpus: 2, memoryBytes: 1024, nodeVersion: 'v20.19.0', platform: 'linux' },
        },
        scenario: {
          name: 'unit',
          durationS: 12,
          arrivalRatePerMinute: 600,
          tenants: [],
          routes: [],
        },
      });
      return { report, stopped: () => stopped };
    }

    it('records transitions at load offsets', async () => {
      const { report } = await runWithBreakers();
      const breakers = validateReport(report).drill?.breakers;
      assert.ok(breakers);
      assert.equal(breakers.untilS, 12);
      assert.deepEqual(breakers.targets[0], {
        ...GPT,
        startState: 'closed',
        endState: 'closed',
        openS: 4.75,
        transitions: [
          { atS: 3.25, from: 'closed', to: 'open', reason: TRIP },
          { atS: 8, from: 'open', to: 'half-open' },
          { atS: 8.5, from: 'half-open', to: 'closed' },
        ],
      });
    });

    it('lists a target without transitions', async () => {
      const { report } = await runWithBreakers();
      assert.deepEqual(report.drill?.breakers?.targets[1], {
        ...SONNET,
        startState: 'closed',
        endState: 'closed',
        openS: 0,
        transitions: [],
      });
    });

    it('writes schema version 9', async () => {
      const { report } = await runWithBreakers();
      assert.equal(report.schemaVersion, 9);
    });

    it('stops the watch after the drill', async () => {
      const { stopped } = await runWithBreakers();
      assert.equal(stopped(), true);
    });

    it('records null without a watch', async () => {
      const outcome = await runDrill(drillSpec(), deps(failoverShape));
      assert.equal(outcome.journal.breakers, null);
    });
  });

  describe('on SIGINT', () => {
    let dir: string;
    let dispose: () => void = () => undefined;

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'scalegate-drill-'));
    });

    afterEach(async () => {
      dispose();
      await rm(dir, { recursive: true, force: true });
    });

    it('writes a partial aborted report', async () => {
      const controller = new AbortController();
      dispose = abortOnInterrupt(controller);
      let sent = false;
      const onEvent: DrillDeps['onEvent'] = (event) => {
        if (event.type === 'tick' && event.atS >= 5 && !sent) {
          sent = true;
          process.emit('SIGINT', 'SIGINT');
        }
      };
      const outcome = await runDrill(drillSpec(), deps(failoverShape, { onEvent }), {
        signal: controller.signal,
      });
      const report = buildDrillReport({
        outcome,
        environment: {
          commit: 'unknown',
          policyHash: '0'.repeat(64),
          engine: 'embedded',
          seed: 1,
          timeScale: 1,
          machine: { cpus: 2, memoryBytes: 1024, nodeVersion: 'v20.19.0', platform: 'linux' },
        },
        scenario: {
          name: 'unit',
          durationS: 12,
          arrivalRatePerMinute: 600,
          tenants: [],
          routes: [],
        },
      });
      const written = await writeReport(report, dir);
      const saved = JSON.parse(
        await readFile(join(written.runDir, 'report.json'), 'utf8'),
      ) as Report;
      assert.equal(saved.verdict.status, 'aborted');
      assert.deepEqual(saved.drill?.aborted, {
        reason: 'signal',
        detail: 'drill interrupted by SIGINT',
        atS: 5,
      });
      assert.equal(saved.topologies[0]?.timeSeries.length, 5);
      assert.deepEqual(await bench.toxicsOn('provider-b'), []);
      assert.deepEqual(bench.providerA.faults(), {});
    });
  });
});

describe('runDrill worker pause', () => {
  /** A pause of every worker from 3 s to 7 s. */
  const PAUSE: DrillSpec['faults'][number] = {
    kind: 'worker-pause',
    id: 'workers-lost',
    atS: 3,
    durationS: 4,
  };
  const steady: SecondShape = () => ({
    requests: 10,
    successes: 10,
    p95S: 1,
    servedBy: { 'provider-a': 10 },
  });

  /** Fake workers that record each call with its drill time and report `shed` as the counter. */
  function fakeWorkers(clock: SteppingClock, options: { failResume?: boolean } = {}) {
    const calls: [string, number][] = [];
    let paused = false;
    const shed: ShedCount[] = [
      { tenant: 'tenant-batch', priorityClass: 'batch', status: 429, requests: 5 },
    ];
    const workers: DrillWorkers = {
      slots: 24,
      get paused() {
        return paused;
      },
      async pause() {
        calls.push(['pause', clock.monotonic() / 1000]);
        paused = true;
        // Backpressure sheds 7 more batch requests and 2 standard ones during the pause.
        shed[0] = { ...shed[0], requests: 12 } as ShedCount;
        shed.push({ tenant: 'tenant-beta', priorityClass: 'standard', status: 429, requests: 2 });
      },
      async resume() {
        calls.push(['resume', clock.monotonic() / 1000]);
        if (options.failResume === true) throw new Error('worker resume failed');
        paused = false;
      },
      readShed: async () => shed.map((count) => ({ ...count })),
      backpressure: {
        maxQueueDepth: 10_000,
        maxOldestAgeMs: 60_000,
        watermarks: { batch: 0.5, standard: 0.8 },
        retryAfterS: { min: 1, max: 60 },
      },
    };
    return { workers, calls };
  }

  function pauseSpec(overrides: Partial<DrillSpec> = {}): DrillSpec {
    return {
      name: 'unit-worker-loss',
      description: 'every worker paused from 3 s to 7 s',
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
      faults: [PAUSE],
      abortRules: [],
      ...overrides,
    };
  }

  function pauseDeps(clock: SteppingClock, workers?: DrillWorkers): DrillDeps {
    const noFaults: FaultDriver = {
      apply: async () => undefined,
      remove: async () => undefined,
      rollback: async () => [],
      leftovers: async () => [],
    };
    return {
      clock,
      faults: noFaults,
      startLoad: () => fakeLoad(clock, steady),
      ...(workers === undefined ? {} : { workers }),
    };
  }

  it('pauses and resumes at the offsets', async () => {
    const clock = steppingClock();
    const { workers, calls } = fakeWorkers(clock);
    const outcome = await runDrill(pauseSpec(), pauseDeps(clock, workers));
    assert.deepEqual(calls, [
      ['pause', 3],
      ['resume', 7],
    ]);
    const fault = outcome.journal.faults[0];
    assert.equal(fault?.appliedAtS, 3);
    assert.equal(fault?.removedAtS, 7);
    assert.equal(workers.paused, false);
  });

  it('records the requests shed since the pause', async () => {
    const clock = steppingClock();
    const { workers } = fakeWorkers(clock);
    const outcome = await runDrill(pauseSpec(), pauseDeps(clock, workers));
    assert.deepEqual(outcome.journal.faults[0]?.workerPause, {
      slots: 24,
      shed: [
        { tenant: 'tenant-batch', priorityClass: 'batch', status: 429, requests: 7 },
        { tenant: 'tenant-beta', priorityClass: 'standard', status: 429, requests: 2 },
      ],
      backpressure: {
        maxQueueDepth: 10_000,
        maxOldestAgeMs: 60_000,
        watermarks: { batch: 0.5, standard: 0.8 },
        retryAfterS: { min: 1, max: 60 },
      },
    });
  });

  it('resumes paused workers when the drill aborts', async () => {
    const clock = steppingClock();
    const { workers, calls } = fakeWorkers(clock);
    const controller = new AbortController();
    const run = runDrill(pauseSpec(), pauseDeps(clock, workers), { signal: controller.signal });
    while (!workers.paused) await clock.sleep(100);
    controller.abort(new Error('interrupted'));
    const outcome = await run;
    assert.equal(outcome.verdict.status, 'aborted');
    assert.deepEqual(
      calls.map(([call]) => call),
      ['pause', 'resume'],
    );
    assert.equal(workers.paused, false);
    assert.ok(outcome.journal.rollback.some((step) => step.step === 'resume the async workers'));
    assert.equal(outcome.journal.cleanAfterRollback, true);
  });

  it('lists workers left paused', async () => {
    const clock = steppingClock();
    const { workers } = fakeWorkers(clock, { failResume: true });
    const outcome = await runDrill(pauseSpec(), pauseDeps(clock, workers));
    assert.equal(outcome.journal.aborted?.reason, 'error');
    assert.match(outcome.journal.faults[0]?.error ?? '', /^remove failed: worker resume failed/);
    assert.deepEqual(outcome.journal.leftovers, ['async workers still paused']);
    assert.equal(outcome.journal.cleanAfterRollback, false);
  });

  it('rejects a pause without workers before the load', async () => {
    const clock = steppingClock();
    let loads = 0;
    const deps = {
      ...pauseDeps(clock),
      startLoad: () => {
        loads += 1;
        return fakeLoad(clock, steady);
      },
    };
    await assert.rejects(runDrill(pauseSpec(), deps), (error: unknown) => {
      assert.ok(isDrillSpecError(error));
      assert.equal(error.field, 'faults[0]');
      return true;
    });
    assert.equal(loads, 0);
  });
});
