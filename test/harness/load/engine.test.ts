import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runLoad } from '../../../src/harness/load/engine.js';
import { systemClock } from '../../../src/platform/clock.js';
import { isTargetUnreachableError } from '../../../src/harness/load/errors.js';
import { formatSummary } from '../../../src/harness/load/format.js';
import { evaluateThresholds } from '../../../src/harness/load/thresholds.js';
import type { ProgressSnapshot } from '../../../src/harness/load/recorder.js';
import { isScenarioValidationError } from '../../../src/harness/scenario/errors.js';
import {
  isTraceFileError,
  loadScenarioTrace,
} from '../../../src/harness/scenario/scenario-trace.js';
import { type FakeGateway, startFakeGateway } from './fake-gateway.js';
import { replaySpec, sampleSpec, TEST_KEYS } from './sample-spec.js';

/** Returns a loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Returns a progress callback that busy-waits once, so that the scheduler falls behind. */
function blockOnce(ms: number): () => void {
  let blocked = false;
  return () => {
    if (blocked) return;
    blocked = true;
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // Busy-waits on purpose.
    }
  };
}

describe('runLoad', () => {
  let gateway: FakeGateway | undefined;
  let traceDir: string | undefined;

  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    if (traceDir !== undefined) await rm(traceDir, { recursive: true, force: true });
    traceDir = undefined;
  });

  it('fails fast naming an unreachable target', async () => {
    const target = `http://127.0.0.1:${await closedPort()}`;
    const started = performance.now();
    await assert.rejects(runLoad(sampleSpec({ target }), { keys: TEST_KEYS }), (error: unknown) => {
      assert.ok(isTargetUnreachableError(error));
      assert.equal(error.url, `${target}/healthz`);
      assert.match(
        error.message,
        new RegExp(`^load target ${target}/healthz is unreachable: ECONNREFUSED`),
      );
      return true;
    });
    assert.ok(performance.now() - started < 2000);
  });

  it('rejects a huge run before the probe', async () => {
    const target = `http://127.0.0.1:${await closedPort()}`;
    const spec = sampleSpec({
      target,
      arrival: { kind: 'constant', ratePerSec: 1_000_000 },
      durationSec: 60,
    });
    await assert.rejects(runLoad(spec, { keys: TEST_KEYS }), (error: unknown) => {
      assert.ok(isScenarioValidationError(error), String(error));
      assert.match(error.message, /got 60000000 \(1000000 requests\/s for 60 s\)/);
      return true;
    });
  });

  it('reads the trace before the probe', async () => {
    const target = `http://127.0.0.1:${await closedPort()}`;
    const arrival = { kind: 'trace', file: 'missing-trace.csv', speedUp: 1 } as const;
    await assert.rejects(
      runLoad(sampleSpec({ target, arrival }), { keys: TEST_KEYS }),
      (error: unknown) => {
        assert.ok(isTraceFileError(error), String(error));
        assert.equal(
          error.message,
          `scenario.arrival.file: trace missing-trace.csv (resolved to ${resolve('missing-trace.csv')}) ` +
            'not found; relative paths start at the working directory, so set arrival.file ' +
            'to an existing CSV file, relative to it or absolute',
        );
        return true;
      },
    );
  });

  it('rejects a trace with no rows', async () => {
    gateway = await startFakeGateway();
    traceDir = await mkdtemp(join(tmpdir(), 'scalegate-engine-trace-'));
    const file = join(traceDir, 'empty.csv');
    await writeFile(file, 'TIMESTAMP,ContextTokens,GeneratedTokens\n');
    const arrival = { kind: 'trace', file, speedUp: 2 } as const;
    const spec = sampleSpec({ target: gateway.url, arrival, durationSec: 5 });
    await assert.rejects(runLoad(spec, { keys: TEST_KEYS }), (error: unknown) => {
      assert.ok(isTraceFileError(error), String(error));
      assert.equal(
        error.message,
        `scenario.arrival.file: trace ${file} has no rows to replay in trace seconds 0 to 10 ` +
          'after its first row (5 s of run at speedUp 2); pass a trace with ' +
          'TIMESTAMP,ContextTokens,GeneratedTokens rows in that window, or change arrival.window',
      );
      return true;
    });
    // The trace is an input error, so the gateway was never contacted.
    assert.deepEqual(gateway.received, []);
  });

  it('rejects a trace window past every row', async () => {
    gateway = await startFakeGateway();
    traceDir = await mkdtemp(join(tmpdir(), 'scalegate-engine-trace-'));
    const file = join(traceDir, 'short.csv');
    await writeFile(
      file,
      'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:00.0000000,10,5\n',
    );
    const arrival = {
      kind: 'trace' as const,
      file,
      speedUp: 1,
      window: { startSec: 60, durationSec: 5 },
    };
    const spec = sampleSpec({ target: gateway.url, arrival, durationSec: 5 });
    await assert.rejects(runLoad(spec, { keys: TEST_KEYS }), (error: unknown) => {
      assert.ok(isTraceFileError(error), String(error));
      assert.match(error.message, /has no rows to replay in trace seconds 60 to 65 after/);
      return true;
    });
  });

  it('rejects a trace that ends early', async () => {
    gateway = await startFakeGateway();
    traceDir = await mkdtemp(join(tmpdir(), 'scalegate-engine-trace-'));
    const file = join(traceDir, 'short.csv');
    await writeFile(
      file,
      'TIMESTAMP,ContextTokens,GeneratedTokens\n' +
        '2023-11-16 18:00:00.0000000,10,5\n' +
        '2023-11-16 18:00:05.0000000,10,5\n',
    );
    // At speedUp 2 the last row is sent 2.5 s into a 5 s run, which then sends nothing.
    const arrival = { kind: 'trace', file, speedUp: 2 } as const;
    const spec = sampleSpec({ target: gateway.url, arrival, durationSec: 5 });
    await assert.rejects(runLoad(spec, { keys: TEST_KEYS }), (error: unknown) => {
      assert.ok(isTraceFileError(error), String(error));
      assert.equal(
        error.message,
        `scenario.arrival.file: trace ${file} ends 2.5 s into the run at speedUp 2, so the ` +
          'last 2.5 s of the 5 s run would send nothing and lower its per-minute rates; ' +
          'pass --duration 2 or less, or set arrival.file to a trace that lasts the whole run',
      );
      return true;
    });
    assert.deepEqual(gateway.received, []);
  });

  it('accepts a trace that outlasts the run', async () => {
    traceDir = await mkdtemp(join(tmpdir(), 'scalegate-engine-trace-'));
    const file = join(traceDir, 'long.csv');
    await writeFile(
      file,
      'TIMESTAMP,ContextTokens,GeneratedTokens\n' +
        '2023-11-16 18:00:00.0000000,10,5\n' +
        '2023-11-16 18:00:05.0000000,10,5\n' +
        '2023-11-16 18:00:11.0000000,10,5\n',
    );
    const arrival = { kind: 'trace', file, speedUp: 2 } as const;
    const rows = await loadScenarioTrace(sampleSpec({ arrival, durationSec: 5 }), 5);
    assert.deepEqual(
      rows?.map((row) => row.offsetMs),
      [0, 2500],
    );
  });

  it('names the field of an invalid scenario', async () => {
    const spec = sampleSpec({ durationSec: -1 });
    await assert.rejects(runLoad(spec, { keys: TEST_KEYS }), (error: unknown) => {
      assert.ok(isScenarioValidationError(error));
      assert.equal(error.message, 'scenario.durationSec: expected a positive number, got -1');
      return true;
    });
  });

  it('measures latency from the scheduled send time', async () => {
    gateway = await startFakeGateway({ delayMs: 100 });
    // One pool connection: three requests scheduled together queue behind each other.
    const { spec, traceRows } = replaySpec([0, 0, 0], { target: gateway.url });
    const result = await runLoad(spec, { keys: TEST_KEYS, traceRows, connections: 1 });
    assert.equal(result.requests.succeeded, 3);
    assert.equal(result.latency.overall.count, 3);
    assert.ok(result.latency.overall.min >= 95, `min ${result.latency.overall.min}`);
    assert.ok(result.latency.overall.max >= 290, `max ${result.latency.overall.max}`);
    assert.equal(result.health.valid, true);
  });

  it('sends a replayed output length clamped to the route limit', async () => {
    gateway = await startFakeGateway();
    const { spec, traceRows } = replaySpec([0], {
      target: gateway.url,
      tasks: { source: 'trace' },
    });
    const rows = traceRows.map((row) => ({ ...row, generatedTokens: 20_000 }));
    const result = await runLoad(spec, {
      keys: TEST_KEYS,
      traceRows: rows,
      outputLimitOf: (route) => (route === 'chat' ? 16_384 : undefined),
    });
    assert.equal(result.requests.succeeded, 1);
    assert.equal(gateway.submittedBodies.length, 1);
    assert.equal(gateway.submittedBodies[0]?.maxOutputTokens, 16_384);
    assert.equal(gateway.submittedBodies[0]?.forcedOutputTokens, 16_384);
  });

  it('shows a slow server delay in each latency', async () => {
    gateway = await startFakeGateway({ delayMs: 150 });
    const { spec, traceRows } = replaySpec([0, 50], { target: gateway.url });
    const result = await runLoad(spec, { keys: TEST_KEYS, traceRows });
    assert.equal(result.requests.sent, 2);
    assert.ok(result.latency.overall.min >= 145, `min ${result.latency.overall.min}`);
    assert.equal(result.statusCodes['200'], 2);
    const byTenant = Object.values(result.latency.byTenant).map((summary) => summary.count);
    assert.equal(
      byTenant.reduce((sum, count) => sum + count, 0),
      2,
    );
    assert.equal(result.latency.byRoute.chat?.count, 2);
    assert.deepEqual(result.successRateByRoute, {
      chat: { finished: 2, succeeded: 2, aborted: 0 },
    });
    assert.equal(result.latency.byTopology.default?.count, 2);
  });

  it('counts sends dropped at the in-flight cap', async () => {
    gateway = await startFakeGateway({ delayMs: 200 });
    const { spec, traceRows } = replaySpec([0, 0, 0, 0, 0], { target: gateway.url });
    const result = await runLoad(spec, { keys: TEST_KEYS, traceRows, maxInFlight: 2 });
    assert.equal(result.requests.scheduled, 5);
    assert.equal(result.requests.sent, 2);
    assert.equal(result.requests.dropped, 3);
    assert.equal(result.health.valid, false);
    assert.equal(
      result.health.reasons[0],
      '3 of 5 sends dropped at the in-flight cap (60.00%), over the limit of 1.00%',
    );
  });

  it('keeps a run valid after a caught-up pause', async () => {
    gateway = await startFakeGateway();
    const { spec, traceRows } = replaySpec([30, 40], { target: gateway.url });
    const result = await runLoad(spec, {
      keys: TEST_KEYS,
      traceRows,
      onProgress: blockOnce(120),
      progressIntervalMs: 10,
    });
    assert.equal(result.requests.late, 2);
    assert.ok(result.schedulerLag.min >= 60, `lag min ${result.schedulerLag.min}`);
    assert.ok(result.schedulerLag.p99 > 50, `lag p99 ${result.schedulerLag.p99}`);
    assert.equal(result.schedulerStalls?.stalls, 1);
    assert.equal(result.health.valid, true);
  });

  it('marks a stalled run invalid', async () => {
    gateway = await startFakeGateway();
    const { spec, traceRows } = replaySpec([30, 40], { target: gateway.url });
    const result = await runLoad(spec, {
      keys: TEST_KEYS,
      traceRows,
      onProgress: blockOnce(120),
      progressIntervalMs: 10,
      health: { maxStallMs: 20 },
    });
    assert.equal(result.requests.late, 2);
    assert.equal(result.health.valid, false);
    assert.match(
      result.health.reasons[0] ?? '',
      /^scheduler stalled: sends waited over 50 ms past their scheduled time for \d+ ms in a row, over the limit of 20 ms$/,
    );
  });

  it('follows async tasks to completion', async () => {
    gateway = await startFakeGateway({ asyncCompleteAfterMs: 150 });
    const { spec, traceRows } = replaySpec([0], {
      target: gateway.url,
      modes: { sync: 0, async: 1 },
    });
    const result = await runLoad(spec, { keys: TEST_KEYS, traceRows, asyncPollIntervalMs: 20 });
    assert.equal(result.statusCodes['202'], 1);
    assert.equal(result.async.accepted, 1);
    assert.equal(result.async.succeeded, 1);
    assert.equal(result.requests.succeeded, 1);
    assert.ok(result.async.endToEnd.min >= 150, `e2e ${result.async.endToEnd.min}`);
    assert.ok(gateway.received.includes('GET /v1/tasks/task-1'));
  });

  it('times out an async task that never ends', async () => {
    gateway = await startFakeGateway();
    const { spec, traceRows } = replaySpec([0], {
      target: gateway.url,
      modes: { sync: 0, async: 1 },
    });
    const result = await runLoad(spec, {
      keys: TEST_KEYS,
      traceRows,
      asyncPollIntervalMs: 20,
      asyncTimeoutMs: 150,
    });
    assert.equal(result.async.timedOut, 1);
    assert.equal(result.requests.failed, 1);
    assert.equal(result.errorCodes.async_timeout, 1);
  });

  it('counts async tasks the drain cut', async () => {
    // The tasks never end, so the drain aborts both while they are being followed.
    gateway = await startFakeGateway();
    const { spec, traceRows } = replaySpec([0, 20], {
      target: gateway.url,
      durationSec: 0.1,
      modes: { sync: 0, async: 1 },
    });
    const result = await runLoad(spec, {
      keys: TEST_KEYS,
      traceRows,
      asyncPollIntervalMs: 20,
      drainTimeoutMs: 300,
    });
    assert.equal(result.async.accepted, 2);
    assert.equal(result.async.aborted, 2);
    assert.equal(result.async.succeeded + result.async.failed + result.async.timedOut, 0);
    assert.equal(result.async.endToEnd.count, 2);
    // Each task waited from its send to the drain end at 0.4 s, so at least 0.3 s.
    assert.ok(result.async.endToEnd.min >= 300, `e2e min ${result.async.endToEnd.min}`);
    const asyncLine = formatSummary(result, evaluateThresholds(result, spec.slo)).find((line) =>
      line.startsWith('[async]'),
    );
    assert.match(
      asyncLine ?? '',
      /^\[async\] accepted=2 succeeded=0 failed=0 timed_out=0 aborted=2 p95=\d+ms \(lower bound: 2 aborted tasks count with their wait\)$/,
    );
  });

  it('counts status and error codes', async () => {
    gateway = await startFakeGateway({ status: 429, errorCode: 'rate_limited' });
    const { spec, traceRows } = replaySpec([0, 10], { target: gateway.url });
    const result = await runLoad(spec, { keys: TEST_KEYS, traceRows });
    assert.equal(result.statusCodes['429'], 2);
    assert.equal(result.errorCodes.rate_limited, 2);
    assert.equal(result.successRate, 0);
  });

  it('aborts requests outstanding at the drain deadline', async () => {
    gateway = await startFakeGateway({ hang: true });
    const { spec, traceRows } = replaySpec([0], { target: gateway.url, durationSec: 0.2 });
    const started = performance.now();
    const result = await runLoad(spec, { keys: TEST_KEYS, traceRows, drainTimeoutMs: 200 });
    assert.equal(result.requests.aborted, 1);
    assert.equal(result.errorCodes.aborted, 1);
    assert.ok(performance.now() - started < 2000);
  });

  it('fails a tenant objective the drain cut', async () => {
    gateway = await startFakeGateway({ hang: true });
    const { spec, traceRows } = replaySpec([0, 50], {
      target: gateway.url,
      durationSec: 0.2,
      tenants: [{ tenantId: 'tenant-alpha', weight: 1 }],
    });
    const result = await runLoad(spec, { keys: TEST_KEYS, traceRows, drainTimeoutMs: 100 });
    assert.deepEqual(result.successRateByTenant, {
      'tenant-alpha': { finished: 2, succeeded: 0, aborted: 2 },
    });
    // Both waits are under a second, far below the objective, yet no response was measured.
    const verdict = evaluateThresholds(result, {
      perTenant: { 'tenant-alpha': { p95LatencyMs: 60_000 } },
    });
    assert.equal(verdict.passed, false);
    assert.match(
      verdict.checks[0]?.reason ?? '',
      /^tenant-alpha\.p95LatencyMs is unknown: 2 of 2 requests were cut off before their responses, so it is at least [0-9.]+ with no upper bound;/,
    );
    assert.deepEqual(result.latency.upperBounds?.byTenant['tenant-alpha'], {
      p50: null,
      p95: null,
      p99: null,
    });
  });

  it('names a stop during the drain', async () => {
    gateway = await startFakeGateway({ hang: true });
    const { spec, traceRows } = replaySpec([0], { target: gateway.url, durationSec: 0.1 });
    const controller = new AbortController();
    // The schedule ends at 0.1 s and the drain would wait 5 s; the stop comes at 0.4 s.
    setTimeout(() => controller.abort(new Error('interrupted by SIGINT')), 400);
    const result = await runLoad(spec, {
      keys: TEST_KEYS,
      traceRows,
      drainTimeoutMs: 5_000,
      signal: controller.signal,
    });
    assert.equal(result.health.valid, false);
    assert.match(result.health.reasons.join('\n'), /during the drain, after the schedule ended/);
  });

  it('bounds percentiles above when few requests are cut', async () => {
    gateway = await startFakeGateway({ hangAfter: 19 });
    const offsets = Array.from({ length: 20 }, (_, index) => index * 10);
    const { spec, traceRows } = replaySpec(offsets, { target: gateway.url, durationSec: 0.3 });
    // The fake gateway replies to the first 19 requests. The drain gives them time to end on
    // a busy machine, so only the request that hangs is cut.
    const result = await runLoad(spec, { keys: TEST_KEYS, traceRows, drainTimeoutMs: 1_500 });
    assert.equal(result.requests.aborted, 1);
    const upper = result.latency.upperBounds?.overall;
    // 19 of 20 ended: the p95, rank 19, is the slowest of them; the p99, rank 20, is unbounded.
    const p95 = upper?.p95 ?? Number.NaN;
    assert.ok(Number.isFinite(p95), `upper p95 ${p95}`);
    assert.ok(p95 >= result.latency.overall.p50, `upper p95 ${p95}`);
    assert.equal(upper?.p99, null);
  });

  it('emits progress and a per-second series', async () => {
    gateway = await startFakeGateway();
    const spec = sampleSpec({
      target: gateway.url,
      durationSec: 1.2,
      arrival: { kind: 'constant', ratePerSec: 20 },
    });
    const events: ProgressSnapshot[] = [];
    const result = await runLoad(spec, {
      keys: TEST_KEYS,
      seed: 11,
      progressIntervalMs: 200,
      onProgress: (progress) => events.push(progress),
    });
    assert.ok(events.length >= 4, `got ${events.length} events`);
    assert.ok(events.every((e, i) => i === 0 || e.elapsedSec > (events[i - 1]?.elapsedSec ?? 0)));
    assert.equal(result.timeSeries[0]?.second, 0);
    const sent = result.timeSeries.reduce((sum, point) => sum + point.requests, 0);
    assert.equal(sent, result.requests.sent);
  });

  it('calls onStart once before the first send', async () => {
    gateway = await startFakeGateway();
    const spec = sampleSpec({
      target: gateway.url,
      durationSec: 1.2,
      arrival: { kind: 'constant', ratePerSec: 20 },
    });
    const starts: { atMs: number; received: string[] }[] = [];
    const beforeMs = systemClock.monotonic();
    const result = await runLoad(spec, {
      keys: TEST_KEYS,
      seed: 11,
      onStart: (atMs) => starts.push({ atMs, received: [...(gateway?.received ?? [])] }),
    });
    assert.equal(starts.length, 1);
    // Only the health probe of the set-up reached the gateway before second 0.
    assert.deepEqual(starts[0]?.received, ['GET /healthz']);
    const atMs = starts[0]?.atMs ?? Number.NaN;
    assert.ok(atMs >= beforeMs, `onStart at ${atMs} ms, before the call at ${beforeMs} ms`);
    assert.ok(result.requests.sent > 0);
  });

  it('reports each ended request to onLatency', async () => {
    gateway = await startFakeGateway();
    const spec = sampleSpec({
      target: gateway.url,
      durationSec: 1.2,
      arrival: { kind: 'constant', ratePerSec: 20 },
    });
    const perSecond = new Map<number, number>();
    const result = await runLoad(spec, {
      keys: TEST_KEYS,
      seed: 11,
      onLatency: (second) => perSecond.set(second, (perSecond.get(second) ?? 0) + 1),
    });
    const ended = result.timeSeries
      .map((point): [number, number] => [
        point.second,
        point.successes + point.failures + point.aborted,
      ])
      .filter(([, count]) => count > 0);
    assert.ok(ended.length > 0);
    assert.deepEqual(
      [...perSecond].sort(([a], [b]) => a - b),
      ended,
    );
  });

  it('emits no MaxListenersExceededWarning at 6000 rpm', async () => {
    gateway = await startFakeGateway({ asyncCompleteAfterMs: 300 });
    const spec = sampleSpec({
      target: gateway.url,
      durationSec: 2,
      arrival: { kind: 'constant', ratePerSec: 100 },
      modes: { sync: 1, async: 1 },
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    try {
      const result = await runLoad(spec, { keys: TEST_KEYS, asyncPollIntervalMs: 20 });
      assert.ok(result.requests.sent > 150, `sent ${result.requests.sent}`);
      assert.ok(result.async.accepted > 50, `accepted ${result.async.accepted}`);
      assert.equal(result.requests.aborted, 0);
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });
});
