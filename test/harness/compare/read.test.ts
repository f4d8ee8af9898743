import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  type CompareInputProblem,
  isCompareInputError,
} from '../../../src/harness/compare/errors.js';
import { readRun } from '../../../src/harness/compare/read.js';
import {
  evaluateHealth,
  type HealthInput,
  stoppedEarlyReason,
} from '../../../src/harness/load/health.js';
import type { LoadCommandOutput } from '../../../src/harness/load/output.js';
import type { Report } from '../../../src/harness/report/types.js';
import { sampleReport, sampleReportV1, sampleReportV4 } from '../report/sample-report.js';
import { BASE_FIGURES, sampleLoadOutput, writeJson } from '../load/sample-output.js';

/** Asserts that reading `file` fails with `problem` and exactly `message`. */
async function assertRejected(file: string, problem: CompareInputProblem, message: string) {
  await assert.rejects(readRun(file), (error: unknown) => {
    assert.ok(isCompareInputError(error), String(error));
    assert.equal(error.problem, problem);
    assert.equal(error.file, file);
    assert.equal(error.message, message);
    return true;
  });
}

/**
 * Builds a load output that SIGINT stopped 3.2 s into its 5 s schedule, with the health
 * reasons the embedded engine gives such a run.
 */
function interruptedOutput(health: Partial<HealthInput> = {}): LoadCommandOutput {
  const output = sampleLoadOutput();
  output.interrupted = { signal: 'SIGINT' };
  output.result.drain = { timeoutSec: 10, endedBy: 'signal', aborted: 0 };
  assert.ok(output.result.throughput !== undefined);
  output.result.throughput.windowSec = 3.2;
  output.result.health = evaluateHealth({
    counts: output.result.requests,
    lagP99Ms: 1,
    limits: {},
    abortedEarly: true,
    stopReason: 'interrupted by SIGINT',
    ...health,
  });
  return output;
}

const PASS_A_RUN =
  'pass a file written by scalegate load --out or a drill reports/<run-id>/report.json';

describe('readRun', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-compare-read-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the figures of a load output', async () => {
    const file = await writeJson(dir, 'load.json', sampleLoadOutput());
    const run = await readRun(file);
    assert.equal(run.kind, 'load');
    assert.equal(run.topology, 'workers=2 serverless_burst=disabled');
    assert.equal(run.policyHash, 'e'.repeat(64));
    assert.equal(run.seed, 1);
    assert.equal(run.requestsSent, 100);
    assert.deepEqual(run.figures, {
      // 100 requests sent in the 5 s window, and none dropped.
      offeredRpm: 1200,
      throughputRpm: 1000,
      // 42 of the 83 requests that ended in the 5 s window succeeded.
      succeededRpm: 504,
      successRate: 0.5,
      p50LatencyS: 2,
      p95LatencyS: 4,
      p99LatencyS: 8,
      meanUsdPerTask: 0.004,
      p95UsdPerTask: 0.01,
      // $0.40 over the 100 tasks, spread over the 50 that succeeded.
      usdPerSucceeded: 0.008,
      workerPoolUsd: 0.0002,
    });
    assert.deepEqual(run.caveats, []);
  });

  it('reads recorded backpressure and drivers', async () => {
    const output = sampleLoadOutput();
    assert.ok(output.settings.platform !== null);
    output.settings.platform.backpressure = {
      maxQueueDepth: 200,
      maxOldestAgeMs: 5000,
      watermarks: { batch: 0.25, standard: 0.5 },
    };
    output.settings.platform.drivers = 'redis';
    const run = await readRun(await writeJson(dir, 'load.json', output));
    assert.equal(
      run.backpressure,
      'max_queue_depth=200 max_queue_age_ms=5000 shed_watermarks=0.25,0.5',
    );
    assert.equal(run.drivers, 'redis');
    assert.equal(run.faultProxy, true);
  });

  it('reads the recorded price table and tenants file', async () => {
    const output = sampleLoadOutput();
    assert.ok(output.settings.platform !== null);
    output.settings.platform.pricesPath = 'fixtures/prices.yaml';
    output.settings.platform.pricesHash = 'a'.repeat(64);
    output.settings.platform.tenantsPath = 'trial-tenants.yaml';
    output.settings.platform.tenantsHash = 'b'.repeat(64);
    const run = await readRun(await writeJson(dir, 'load.json', output));
    assert.deepEqual(run.prices, {
      path: 'fixtures/prices.yaml',
      sha256: 'a'.repeat(64),
      effectiveDate: null,
    });
    assert.deepEqual(run.tenants, {
      path: 'trial-tenants.yaml',
      sha256: 'b'.repeat(64),
      effectiveDate: null,
    });
  });

  it("reads a load's price table date", async () => {
    const output = sampleLoadOutput();
    assert.ok(output.settings.platform !== null);
    output.settings.platform.pricesPath = 'fixtures/prices.yaml';
    output.settings.platform.pricesHash = 'a'.repeat(64);
    output.settings.platform.pricesEffectiveDate = '2025-01-15';
    const run = await readRun(await writeJson(dir, 'load.json', output));
    assert.deepEqual(run.prices, {
      path: 'fixtures/prices.yaml',
      sha256: 'a'.repeat(64),
      effectiveDate: '2025-01-15',
    });
  });

  it('rejects a price table date without its path', async () => {
    const output = sampleLoadOutput();
    assert.ok(output.settings.platform !== null);
    output.settings.platform.pricesEffectiveDate = '2025-01-15';
    await assert.rejects(readRun(await writeJson(dir, 'load.json', output)), (error: unknown) => {
      assert.ok(isCompareInputError(error), String(error));
      assert.match(error.message, /pricesPath/);
      return true;
    });
  });

  it('reads an output without price table or tenants file', async () => {
    const run = await readRun(await writeJson(dir, 'load.json', sampleLoadOutput()));
    assert.equal(run.prices, null);
    assert.equal(run.tenants, null);
  });

  it('rejects a price table path without its hash', async () => {
    const output = sampleLoadOutput();
    assert.ok(output.settings.platform !== null);
    output.settings.platform.pricesPath = 'fixtures/prices.yaml';
    await assert.rejects(readRun(await writeJson(dir, 'load.json', output)), (error: unknown) => {
      assert.ok(isCompareInputError(error), String(error));
      assert.match(error.message, /pricesHash/);
      return true;
    });
  });

  it('counts dropped sends in the offered rate', async () => {
    const output = sampleLoadOutput();
    output.result.requests.sent = 90;
    output.result.requests.dropped = 10;
    const run = await readRun(await writeJson(dir, 'load.json', output));
    // 90 sent and 10 dropped in the 5 s window.
    assert.equal(run.figures.offeredRpm, 1200);
    assert.equal(run.requestsSent, 90);
  });

  it('divides the offered rate by a cut send window', async () => {
    const output = interruptedOutput();
    output.result.requests.sent = 64;
    const run = await readRun(await writeJson(dir, 'load.json', output));
    // 64 requests fell due in the 3.2 s before SIGINT stopped the run.
    assert.equal(run.figures.offeredRpm, 1200);
  });

  it('gives no offered rate without a send window', async () => {
    const output = sampleLoadOutput();
    delete output.result.throughput;
    const run = await readRun(await writeJson(dir, 'load.json', output));
    assert.equal(run.figures.offeredRpm, null);
    assert.equal(run.unmeasured.offeredRpm, 'the output records no send window');
  });

  it('counts dropped sends of a drill report', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    assert.ok(topology !== undefined);
    topology.harness = { ...topology.harness, droppedSends: 300 };
    const run = await readRun(await writeJson(dir, 'report.json', report));
    // 2,700 sent and 300 dropped in the 90 s window.
    assert.equal(run.figures.offeredRpm, 2000);
    assert.equal(run.prices, null);
    assert.equal(run.tenants, null);
  });

  it('reads the recorded files of a drill report', async () => {
    const report = sampleReport();
    report.environment = {
      ...report.environment,
      pricesPath: 'fixtures/prices.yaml',
      pricesHash: 'a'.repeat(64),
      pricesEffectiveDate: '2025-01-15',
      tenantsPath: '/srv/trial-tenants.yaml',
      tenantsHash: 'b'.repeat(64),
    };
    const run = await readRun(await writeJson(dir, 'report.json', report));
    assert.deepEqual(run.prices, {
      path: 'fixtures/prices.yaml',
      sha256: 'a'.repeat(64),
      effectiveDate: '2025-01-15',
    });
    assert.deepEqual(run.tenants, {
      path: '/srv/trial-tenants.yaml',
      sha256: 'b'.repeat(64),
      effectiveDate: null,
    });
  });

  it('gives no offered rate of an aborted old drill', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    assert.ok(topology !== undefined);
    assert.ok(report.drill !== null);
    delete topology.sendWindowS;
    report.verdict = { status: 'aborted', reasons: ['aborted at 12.50 s: interrupted by SIGINT'] };
    report.drill.aborted = { reason: 'signal', detail: 'interrupted by SIGINT', atS: 12.5 };
    const run = await readRun(await writeJson(dir, 'report.json', report));
    assert.equal(run.figures.offeredRpm, null);
    assert.equal(
      run.unmeasured.offeredRpm,
      'the drill was aborted, and the report does not record when its send window closed',
    );
  });

  it('gives no success rate of a load without ended requests', async () => {
    const output = sampleLoadOutput();
    const empty = { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
    output.result.requests = {
      scheduled: 0,
      sent: 0,
      succeeded: 0,
      failed: 0,
      dropped: 0,
      late: 0,
      aborted: 0,
    };
    output.result.successRate = 0;
    output.result.latency = { overall: empty, byTenant: {}, byRoute: {}, byTopology: {} };
    const run = await readRun(await writeJson(dir, 'load.json', output));
    for (const metric of ['successRate', 'p50LatencyS', 'p95LatencyS', 'p99LatencyS'] as const) {
      assert.equal(run.figures[metric], null, metric);
      assert.equal(run.unmeasured[metric], 'no request ended in the run', metric);
    }
    assert.equal(run.figures.meanUsdPerTask, BASE_FIGURES.meanUsd);
  });

  it('gives no cost of a drill without priced tasks', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    assert.ok(topology !== undefined);
    // Admission rejected every request of the main load, so the ledger priced none of its tasks.
    topology.successRate = 0;
    topology.cost = {
      ...topology.cost,
      meanUsd: 0,
      p95Usd: 0,
      totalUsd: 0,
      workerPoolUsd: 0,
      byTenant: [],
      byRoute: [],
    };
    const run = await readRun(await writeJson(dir, 'report.json', report));
    for (const metric of ['meanUsdPerTask', 'p95UsdPerTask', 'workerPoolUsd'] as const) {
      assert.equal(run.figures[metric], null, metric);
    }
    assert.equal(run.figures.usdPerSucceeded, null);
    assert.equal(run.unmeasured.meanUsdPerTask, 'the cost ledger priced no task');
    assert.equal(run.unmeasured.p95UsdPerTask, 'the cost ledger priced no task');
    assert.equal(run.unmeasured.usdPerSucceeded, 'no request succeeded');
    assert.equal(
      run.unmeasured.workerPoolUsd,
      'the cost ledger priced no task, so it shared out no worker pool bill',
    );
  });

  it('keeps the pool bill of a burst-only drill', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    assert.ok(topology !== undefined);
    // Only the bursting tenant's tasks ran, so the pool was billed but no main-load task priced.
    topology.cost = {
      ...topology.cost,
      meanUsd: 0,
      p95Usd: 0,
      totalUsd: 0,
      workerPoolUsd: 0.0107,
      byTenant: [],
      byRoute: [],
    };
    const run = await readRun(await writeJson(dir, 'report.json', report));
    assert.equal(run.figures.meanUsdPerTask, null);
    assert.equal(run.figures.workerPoolUsd, 0.0107);
    assert.equal(run.unmeasured.workerPoolUsd, undefined);
  });

  it('keeps the cost of a drill on free models', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    assert.ok(topology !== undefined);
    const free = { meanUsd: 0, p95Usd: 0, totalUsd: 0 };
    topology.cost = {
      ...topology.cost,
      ...free,
      workerPoolUsd: 0,
      byTenant: [{ key: 'tenant-alpha', ...free }],
      byRoute: [{ key: 'chat', ...free }],
    };
    const run = await readRun(await writeJson(dir, 'report.json', report));
    assert.equal(run.figures.meanUsdPerTask, 0);
    assert.equal(run.figures.workerPoolUsd, 0);
    assert.equal(run.unmeasured.meanUsdPerTask, undefined);
  });

  it('gives no success rate of a drill without requests', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    assert.ok(topology !== undefined);
    topology.requests = 0;
    topology.successRate = 0;
    topology.latency = { p50S: 0, p95S: 0, p99S: 0 };
    const run = await readRun(await writeJson(dir, 'report.json', report));
    for (const metric of ['successRate', 'p50LatencyS', 'p95LatencyS', 'p99LatencyS'] as const) {
      assert.equal(run.figures[metric], null, metric);
      assert.equal(run.unmeasured[metric], 'no request ended in the run', metric);
    }
  });

  it('keeps the success rate of a load that failed every request', async () => {
    const output = sampleLoadOutput();
    output.result.requests = { ...output.result.requests, succeeded: 0, failed: 100 };
    output.result.successRate = 0;
    const run = await readRun(await writeJson(dir, 'load.json', output));
    assert.equal(run.figures.successRate, 0);
    assert.equal(run.figures.p50LatencyS, BASE_FIGURES.p50Ms / 1000);
    assert.equal(run.unmeasured.successRate, undefined);
  });

  it('names unsettled tasks of a load', async () => {
    for (const [unsettled, caveat] of [
      [1, 'the cost of 1 unsettled task is missing'],
      [2, 'the cost of 2 unsettled tasks is missing'],
    ] as const) {
      const output = sampleLoadOutput();
      assert.ok(output.platform !== undefined);
      output.platform.cost.unsettledTasks = unsettled;
      const run = await readRun(await writeJson(dir, 'load.json', output));
      assert.deepEqual(run.caveats, [caveat]);
    }
  });

  it('reads an output without backpressure as the defaults', async () => {
    const run = await readRun(await writeJson(dir, 'load.json', sampleLoadOutput()));
    assert.equal(
      run.backpressure,
      'max_queue_depth=10000 max_queue_age_ms=60000 shed_watermarks=0.5,0.8',
    );
    assert.equal(run.drivers, null);
  });

  it('rejects a watermark above 1', async () => {
    const output = sampleLoadOutput();
    assert.ok(output.settings.platform !== null);
    output.settings.platform.backpressure = {
      maxQueueDepth: 200,
      maxOldestAgeMs: 5000,
      watermarks: { batch: 0.5, standard: 1.5 },
    };
    await assert.rejects(readRun(await writeJson(dir, 'load.json', output)), (error: unknown) => {
      assert.match(String(error), /settings\/platform\/backpressure\/watermarks\/standard/);
      return true;
    });
  });

  it('reads the backpressure of a drill report', async () => {
    const report = sampleReport();
    report.environment.backpressure = {
      maxQueueDepth: 300,
      maxOldestAgeMs: 9000,
      watermarks: { batch: 0.5, standard: 0.8 },
    };
    report.environment.drivers = 'memory';
    const run = await readRun(await writeJson(dir, 'report.json', report));
    assert.equal(
      run.backpressure,
      'max_queue_depth=300 max_queue_age_ms=9000 shed_watermarks=0.5,0.8',
    );
    assert.equal(run.drivers, 'memory');
  });

  it('leaves cost null for a --target run', async () => {
    const output = sampleLoadOutput();
    output.settings.platform = null;
    delete output.platform;
    const run = await readRun(await writeJson(dir, 'target.json', output));
    assert.equal(run.topology, null);
    assert.equal(run.policyHash, null);
    assert.equal(run.backpressure, null);
    assert.equal(run.faultProxy, null);
    assert.equal(run.figures.meanUsdPerTask, null);
    assert.equal(run.figures.workerPoolUsd, null);
  });

  it('reads the figures of a drill report', async () => {
    const report = sampleReport();
    const run = await readRun(await writeJson(dir, 'report.json', report));
    assert.equal(run.kind, 'drill');
    assert.equal(run.scenario, 'provider-outage');
    assert.equal(run.seed, 42);
    assert.equal(run.requestsSent, 2700);
    assert.equal(run.timeScale, 10);
    assert.deepEqual(run.figures, {
      // 2,700 requests sent in the 90 s window, and none dropped.
      offeredRpm: 1800,
      throughputRpm: 1800,
      // 2,664 of the 2,700 requests that ended in the 90 s window succeeded.
      succeededRpm: 1776,
      successRate: 0.964,
      p50LatencyS: 1.1,
      p95LatencyS: 3.4,
      p99LatencyS: 5.2,
      meanUsdPerTask: 0.019,
      p95UsdPerTask: 0.041,
      // $49.46 over the 2,603 of 2,700 requests that succeeded at 96.4%.
      usdPerSucceeded: 0.019001152516,
      workerPoolUsd: null,
    });
  });

  describe('succeeded throughput', () => {
    it('counts the successes of an interrupted load', async () => {
      const output = interruptedOutput();
      assert.ok(output.result.throughput !== undefined);
      // The run stopped at 3.2 s: 12 of the 18 requests that ended in seconds 0 to 3 succeeded.
      output.result.throughput.completedInWindow = 18;
      output.result.timeSeries = [0, 1, 2, 3].map((second) => ({
        second,
        requests: 5,
        successes: 3,
        failures: second === 3 ? 0 : 2,
        aborted: 0,
        p95Ms: 900,
      }));
      const run = await readRun(await writeJson(dir, 'load.json', output));
      assert.equal(run.figures.succeededRpm, 225);
      assert.deepEqual(run.unmeasured, {});
    });

    it('leaves the drain out of a load', async () => {
      const output = sampleLoadOutput({ ...BASE_FIGURES, successRate: 1 });
      const run = await readRun(await writeJson(dir, 'load.json', output));
      // All 83 requests that ended in the window succeeded; the drain's 17 did not count.
      assert.equal(run.figures.succeededRpm, 996);
    });

    it('takes the recorded figure of a load', async () => {
      // The series gives 42 successes, 504 rpm, but the recorder counted 45 inside the window.
      const output = sampleLoadOutput();
      assert.ok(output.result.throughput !== undefined);
      output.result.throughput.succeededInWindow = 45;
      output.result.throughput.succeededRpm = 540;
      const run = await readRun(await writeJson(dir, 'load.json', output));
      assert.equal(run.figures.succeededRpm, 540);
      assert.deepEqual(run.unmeasured, {});
    });

    it('takes the recorded figure past a series mismatch', async () => {
      const output = sampleLoadOutput();
      assert.ok(output.result.throughput !== undefined);
      output.result.throughput.completedInWindow = 80;
      output.result.throughput.succeededInWindow = 40;
      output.result.throughput.succeededRpm = 480;
      const run = await readRun(await writeJson(dir, 'load.json', output));
      assert.equal(run.figures.succeededRpm, 480);
      assert.equal(run.unmeasured.succeededRpm, undefined);
    });

    it('rejects a load series past its window count', async () => {
      const output = sampleLoadOutput();
      assert.ok(output.result.throughput !== undefined);
      output.result.throughput.completedInWindow = 80;
      const file = await writeJson(dir, 'load.json', output);
      const run = await readRun(file);
      assert.equal(run.figures.succeededRpm, null);
      assert.equal(
        run.unmeasured.succeededRpm,
        'its series counts 83 requests that ended in the 5 s covering the 5 s send window, ' +
          'but 80 ended inside it, so the series does not show which successes ended inside it',
      );
    });

    it('names a k6 load without window counts', async () => {
      const output = sampleLoadOutput();
      output.result.engine = 'k6';
      output.settings.engine = 'k6';
      output.result.throughput = { windowSec: 5, offeredRpm: 1200 };
      const run = await readRun(await writeJson(dir, 'k6.json', output));
      assert.equal(run.figures.succeededRpm, null);
      assert.equal(
        run.unmeasured.succeededRpm,
        'k6 does not time when requests end, so the output has no count of requests that ' +
          'ended inside the send window',
      );
    });

    it('leaves out the offered rate of k6', async () => {
      const output = sampleLoadOutput();
      output.result.engine = 'k6';
      output.settings.engine = 'k6';
      output.result.throughput = { windowSec: 5, offeredRpm: 1200 };
      const run = await readRun(await writeJson(dir, 'k6.json', output));
      assert.equal(run.figures.throughputRpm, null);
      assert.equal(
        run.unmeasured.throughputRpm,
        'k6 does not time when requests end, so the output has no count of requests that ' +
          'ended inside the send window',
      );
    });

    it('leaves out the rate of a k6 drill', async () => {
      const report = sampleReport();
      report.environment.engine = 'k6';
      const run = await readRun(await writeJson(dir, 'report.json', report));
      assert.equal(run.figures.throughputRpm, null);
      assert.equal(
        run.unmeasured.throughputRpm,
        'k6 does not time when requests end, so the report records the offered rate only',
      );
    });

    it('names a load without a send window', async () => {
      const output = sampleLoadOutput();
      delete output.result.throughput;
      const run = await readRun(await writeJson(dir, 'load.json', output));
      assert.equal(run.figures.succeededRpm, null);
      assert.equal(run.unmeasured.succeededRpm, 'the output records no send window');
      assert.equal(run.figures.throughputRpm, null);
      assert.equal(run.unmeasured.throughputRpm, 'the output records no send window');
    });

    it('leaves the drain out of a drill report', async () => {
      const report = sampleReport();
      const result = report.topologies[0];
      assert.ok(result);
      // Seconds 90 and 91 are the drain: their successes end after the 90 s window.
      for (const t of [90, 91]) {
        result.timeSeries.push({
          t,
          requests: 5,
          successes: 5,
          throughputRpm: 300,
          successRate: 1,
          p95S: 2,
          failovers: 0,
          servedBy: {},
        });
      }
      const run = await readRun(await writeJson(dir, 'report.json', report));
      assert.equal(run.figures.succeededRpm, 1776);
    });

    it('rejects a report series off its rate', async () => {
      const report = sampleReport();
      assert.ok(report.topologies[0]);
      report.topologies[0].throughputRpm = 1700;
      const run = await readRun(await writeJson(dir, 'report.json', report));
      assert.equal(run.figures.succeededRpm, null);
      assert.equal(
        run.unmeasured.succeededRpm,
        'its series counts 2700 requests that ended in the 90 s covering the 90 s send window, ' +
          'but 2550 ended inside it, so the series does not show which successes ended inside it',
      );
    });

    it('names an aborted drill without a window', async () => {
      const report = sampleReport();
      assert.ok(report.drill);
      assert.ok(report.topologies[0]);
      delete report.topologies[0].sendWindowS;
      report.drill.aborted = { reason: 'signal', detail: 'SIGINT', atS: 40 };
      report.verdict = { status: 'aborted', reasons: ['aborted at 40.00 s: SIGINT'] };
      const run = await readRun(await writeJson(dir, 'report.json', report));
      assert.equal(run.figures.succeededRpm, null);
      assert.equal(
        run.unmeasured.succeededRpm,
        'the drill was aborted, and the report does not record when its send window closed',
      );
    });

    it('measures an aborted drill by its send window', async () => {
      const report = sampleReport();
      const [result] = report.topologies;
      assert.ok(report.drill);
      assert.ok(result);
      report.drill.aborted = { reason: 'signal', detail: 'SIGINT', atS: 40 };
      report.verdict = { status: 'aborted', reasons: ['aborted at 40.00 s: SIGINT'] };
      // The load stopped at 40 s, and 30 requests ended each second, so 1,200 in the window.
      result.sendWindowS = 40;
      const run = await readRun(await writeJson(dir, 'report.json', report));
      // Seconds 20 to 22 had 18 successes and the other 37 seconds 30: 1,164 in 40 s.
      assert.equal(run.figures.succeededRpm, 1746);
      assert.deepEqual(run.unmeasured, {});
    });

    it('checks an aborted window against its rate', async () => {
      const report = sampleReport();
      const [result] = report.topologies;
      assert.ok(report.drill);
      assert.ok(result);
      report.drill.aborted = { reason: 'signal', detail: 'SIGINT', atS: 40 };
      report.verdict = { status: 'aborted', reasons: ['aborted at 40.00 s: SIGINT'] };
      // 1,800 rpm over 39.5 s is 1,185 requests, but seconds 0 to 39 hold 1,200.
      result.sendWindowS = 39.5;
      const run = await readRun(await writeJson(dir, 'report.json', report));
      assert.equal(run.figures.succeededRpm, null);
      assert.equal(
        run.unmeasured.succeededRpm,
        'its series counts 1200 requests that ended in the 40 s covering the 39.5 s send ' +
          'window, but 1185 ended inside it, so the series does not show which successes ' +
          'ended inside it',
      );
    });

    it('keeps n/a for an aborted version 4 drill', async () => {
      const report = sampleReportV4();
      assert.ok(report.drill);
      report.drill.aborted = { reason: 'signal', detail: 'SIGINT', atS: 40 };
      report.verdict = { status: 'aborted', reasons: ['aborted at 40.00 s: SIGINT'] };
      const run = await readRun(await writeJson(dir, 'report.json', report));
      assert.equal(run.figures.succeededRpm, null);
      assert.equal(
        run.unmeasured.succeededRpm,
        'the drill was aborted, and the report does not record when its send window closed',
      );
    });
  });

  it('reads a schema version 1 drill report', async () => {
    const run = await readRun(await writeJson(dir, 'report.json', sampleReportV1()));
    assert.equal(run.kind, 'drill');
    assert.equal(run.figures.throughputRpm, 1800);
  });

  it('reads a schema version 4 drill report', async () => {
    const run = await readRun(await writeJson(dir, 'report.json', sampleReportV4()));
    assert.equal(run.kind, 'drill');
    assert.equal(run.figures.throughputRpm, 1800);
    assert.equal(run.figures.successRate, 0.964);
  });

  it('notes a signal after the load ended', async () => {
    const output = sampleLoadOutput();
    output.interrupted = { signal: 'SIGINT' };
    output.result.health = { valid: false, reasons: ['scheduler lag p99 80 ms'] };
    const run = await readRun(await writeJson(dir, 'stopped.json', output));
    assert.deepEqual(run.caveats, [
      'SIGINT came after the load ended, while the cost was read, so the cost covers the ' +
        'tasks that had ended by then',
      'the load generator fell behind (scheduler lag p99 80 ms)',
    ]);
  });

  it('words an interrupted load as interrupted', async () => {
    const run = await readRun(await writeJson(dir, 'stopped.json', interruptedOutput()));
    assert.deepEqual(run.caveats, [
      'the run was interrupted by SIGINT 3.2 s into its 5 s schedule, so its figures cover ' +
        'that part only',
    ]);
  });

  it('keeps the lag reasons of an interrupted load', async () => {
    const stalls = { lagLimitMs: 50, behindMs: 900, longestStallMs: 900, stalls: 1 };
    const output = interruptedOutput({ stalls, scheduleMs: 5000 });
    const run = await readRun(await writeJson(dir, 'stopped.json', output));
    assert.deepEqual(run.caveats, [
      'the run was interrupted by SIGINT 3.2 s into its 5 s schedule, so its figures cover ' +
        'that part only',
      'the load generator fell behind (scheduler stalled: sends waited over 50 ms past their ' +
        'scheduled time for 900 ms in a row, over the limit of 500 ms; scheduler behind ' +
        'schedule by over 50 ms for 900 ms in 1 stalls, over the limit of 500 ms)',
    ]);
  });

  it('notes an interrupt during the drain', async () => {
    const output = interruptedOutput({ stoppedInDrain: true });
    assert.ok(output.result.throughput !== undefined);
    output.result.throughput.windowSec = 5;
    const run = await readRun(await writeJson(dir, 'stopped.json', output));
    assert.deepEqual(run.caveats, [
      'the run was interrupted by SIGINT during the drain, after the schedule ended',
    ]);
  });

  it('marks latency with aborted requests as lower bounds', async () => {
    const output = sampleLoadOutput();
    Object.assign(output.result.requests, { failed: 47, aborted: 3 });
    output.result.drain = { timeoutSec: 10, endedBy: 'timeout', aborted: 3 };
    // The p50 of the completed requests equals the p50 with the aborts, so it is exact.
    output.result.latency.upperBounds = {
      overall: { p50: 2000, p95: 4500, p99: null },
      byTenant: {},
    };
    const run = await readRun(await writeJson(dir, 'cut.json', output));
    assert.deepEqual(run.lowerBounds, ['p95LatencyS', 'p99LatencyS']);
    assert.deepEqual(run.caveats, [
      '3 of 100 requests were aborted at the drain timeout, and aborted requests count with ' +
        'the time they had waited, so its p95 and p99 latency are lower bounds',
    ]);
  });

  it('marks every percentile without upper bounds', async () => {
    const output = sampleLoadOutput();
    Object.assign(output.result.requests, { failed: 49, aborted: 1 });
    output.result.drain = { timeoutSec: 10, endedBy: 'signal', aborted: 1 };
    const run = await readRun(await writeJson(dir, 'cut.json', output));
    assert.deepEqual(run.lowerBounds, ['p50LatencyS', 'p95LatencyS', 'p99LatencyS']);
    assert.deepEqual(run.caveats, [
      'the run was stopped early during the drain, after the schedule ended',
      '1 of 100 requests was aborted when the run was stopped, and aborted requests count ' +
        'with the time they had waited, so its p50, p95 and p99 latency are lower bounds',
    ]);
  });

  it('finds aborted requests in a report series', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    const [point] = topology?.timeSeries ?? [];
    assert.ok(point !== undefined);
    point.throughputRpm = (point.requests - 2) * 60;
    const run = await readRun(await writeJson(dir, 'report.json', report));
    assert.deepEqual(run.lowerBounds, ['p50LatencyS', 'p95LatencyS', 'p99LatencyS']);
    assert.deepEqual(run.caveats, [
      '2 of 2700 requests were aborted at the drain timeout, and aborted requests count with ' +
        'the time they had waited, so its p50, p95 and p99 latency are lower bounds',
    ]);
  });

  it('words an aborted drill as aborted', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    assert.ok(topology !== undefined);
    assert.ok(report.drill !== null);
    report.verdict = { status: 'aborted', reasons: ['aborted at 12.50 s: interrupted by SIGINT'] };
    report.drill.aborted = { reason: 'signal', detail: 'interrupted by SIGINT', atS: 12.5 };
    topology.harness = {
      ...topology.harness,
      valid: false,
      reasons: [stoppedEarlyReason('interrupted by SIGINT')],
    };
    const run = await readRun(await writeJson(dir, 'report.json', report));
    assert.deepEqual(run.caveats, [
      'the drill was aborted at 12.50 s (signal: interrupted by SIGINT)',
    ]);
  });

  it('rejects a missing file', async () => {
    const file = join(dir, 'nope.json');
    await assertRejected(file, 'not_found', `${file}: file not found; ${PASS_A_RUN}`);
  });

  it('rejects a folder', async () => {
    const file = join(dir, 'runs');
    await mkdir(file);
    await assertRejected(
      file,
      'unreadable',
      `${file}: is a folder; pass the files in it, each a load --out JSON or a drill ` +
        `report.json, such as ${file}/<run-id>/report.json`,
    );
  });

  it('names the report of a run folder', async () => {
    const file = join(dir, 'run');
    await mkdir(file);
    await writeFile(join(file, 'report.json'), '{}\n');
    await assertRejected(
      file,
      'unreadable',
      `${file}: is a folder; pass the report in it, ${file}/report.json`,
    );
  });

  it('rejects a file that is not JSON', async () => {
    const file = join(dir, 'summary.md');
    await writeFile(file, '# drill summary\n');
    await assert.rejects(readRun(file), (error: unknown) => {
      assert.ok(isCompareInputError(error));
      assert.equal(error.problem, 'not_json');
      assert.ok(error.message.startsWith(`${file}: not JSON (`), error.message);
      assert.ok(error.message.endsWith(`); ${PASS_A_RUN}`), error.message);
      return true;
    });
  });

  it('keeps a not-JSON error on one line', async () => {
    const file = join(dir, 'summary.md');
    await writeFile(file, '# drill summary\r\n');
    await assertRejected(
      file,
      'not_json',
      `${file}: not JSON (Unexpected token '#', "# drill summary\\r\\n" is not valid JSON); ` +
        PASS_A_RUN,
    );
  });

  it('names a property the schema lacks', async () => {
    const output = sampleLoadOutput();
    Object.assign(output.result, { colour: 'red' });
    const file = await writeJson(dir, 'edited.json', output);
    await assertRejected(
      file,
      'invalid',
      `${file}: invalid load output at /result: additionalProperties rule failed ` +
        '(must NOT have additional properties, got property "colour"); ' +
        'run the load again, as an edited or cut-off file cannot be compared',
    );
  });

  it('rejects JSON of another kind', async () => {
    const file = await writeJson(dir, 'package.json', { name: 'scalegate', version: '0.1.0' });
    await assertRejected(
      file,
      'unknown_format',
      `${file}: neither a load output (fields result and verdict) nor a drill report ` +
        `(fields runId and topologies); ${PASS_A_RUN}`,
    );
  });

  it('names the report latest.json points at', async () => {
    const pointer = {
      runId: '20261205T124219Z-provider-outage',
      reportPath: '20261205T124219Z-provider-outage/report.json',
    };
    const file = await writeJson(dir, 'latest.json', pointer);
    await assertRejected(
      file,
      'unknown_format',
      `${file}: a pointer to the latest drill report, not a report; pass the report it points ` +
        `at, ${join(dir, '20261205T124219Z-provider-outage', 'report.json')}`,
    );
  });

  it('rejects a JSON array', async () => {
    const file = await writeJson(dir, 'list.json', [sampleLoadOutput()]);
    await assert.rejects(readRun(file), (error: unknown) => {
      assert.ok(isCompareInputError(error));
      assert.equal(error.problem, 'unknown_format');
      return true;
    });
  });

  it('rejects a load output without schemaVersion', async () => {
    const { result, verdict, platform } = sampleLoadOutput();
    const file = await writeJson(dir, 'old.json', { result, verdict, platform });
    await assertRejected(
      file,
      'no_schema_version',
      `${file}: load output without schemaVersion, written by a scalegate load before schema ` +
        'version 1; run the load again with this scalegate to record its environment and settings',
    );
  });

  it('rejects an unknown load schemaVersion', async () => {
    const file = await writeJson(dir, 'next.json', { ...sampleLoadOutput(), schemaVersion: 2 });
    await assertRejected(
      file,
      'unsupported_schema_version',
      `${file}: load output schemaVersion 2 is not supported by this scalegate, which reads version 1; ` +
        'compare it with the scalegate version that wrote it, or run the load again with this one',
    );
  });

  it('rejects a report without schemaVersion', async () => {
    const report: Partial<Report> = sampleReport();
    delete report.schemaVersion;
    const file = await writeJson(dir, 'report.json', report);
    await assertRejected(
      file,
      'invalid',
      `${file}: drill report without schemaVersion, which every report.json records; ` +
        'run the drill again, as an edited or cut-off report cannot be compared',
    );
  });

  it('rejects an unknown report schemaVersion', async () => {
    const file = await writeJson(dir, 'report.json', { ...sampleReport(), schemaVersion: '2' });
    await assertRejected(
      file,
      'unsupported_schema_version',
      `${file}: drill report schemaVersion "2" is not supported by this scalegate, which reads versions 1, 2, 3, 4, 5, 6, 7, 8 and 9; ` +
        'compare it with the scalegate version that wrote it, or run the drill again with this one',
    );
  });

  it('rejects a load output that breaks the schema', async () => {
    const output = sampleLoadOutput() as unknown as { settings: Record<string, unknown> };
    delete output.settings.seed;
    const file = await writeJson(dir, 'edited.json', output);
    await assertRejected(
      file,
      'invalid',
      `${file}: invalid load output at /settings: required rule failed ` +
        "(must have required property 'seed'); " +
        'run the load again, as an edited or cut-off file cannot be compared',
    );
  });

  it('rejects a start time past any date', async () => {
    const output = sampleLoadOutput();
    output.result.startedAt = 1e17;
    const file = await writeJson(dir, 'edited.json', output);
    await assertRejected(
      file,
      'invalid',
      `${file}: invalid load output at /result/startedAt: maximum rule failed ` +
        '(must be <= 8640000000000000, got 100000000000000000); expected epoch milliseconds ' +
        'at the run start, up to 8.64e15, the latest a JavaScript Date can hold; ' +
        'run the load again, as an edited or cut-off file cannot be compared',
    );
  });

  it('rejects a report that breaks the schema', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    assert.ok(topology !== undefined);
    topology.successRate = 96.4;
    const file = await writeJson(dir, 'report.json', report);
    await assert.rejects(readRun(file), (error: unknown) => {
      assert.ok(isCompareInputError(error));
      assert.equal(error.problem, 'invalid');
      assert.equal(
        error.message,
        `${file}: invalid report at /topologies/0/successRate: maximum rule failed ` +
          '(must be <= 1, got 96.4); expected share of ended requests that succeeded, a ' +
          'fraction from 0 to 1 (0.95 for 95%); run the drill again, as an edited or cut-off ' +
          'report cannot be compared',
      );
      return true;
    });
  });

  it('rejects a report of two topologies', async () => {
    const report = sampleReport();
    const [topology] = report.topologies;
    assert.ok(topology !== undefined);
    report.topologies.push({ ...topology, topology: 'serverless' });
    const file = await writeJson(dir, 'two.json', report);
    await assertRejected(
      file,
      'several_topologies',
      `${file}: the report holds 2 topologies, and compare reads one per file; ` +
        'pass a report of one topology, such as scalegate drill writes',
    );
  });
});
