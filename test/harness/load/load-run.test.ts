import assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';
import type { Clock } from '../../../src/platform/clock.js';
import { systemClock } from '../../../src/platform/clock.js';
import {
  formatProgress,
  formatSummary,
  interruptedLine,
} from '../../../src/harness/load/format.js';
import { LoadRun } from '../../../src/harness/load/load-run.js';
import { type RunLoadOptions, resolveLoadOptions } from '../../../src/harness/load/options.js';
import type { ProgressSnapshot } from '../../../src/harness/load/recorder.js';
import type { PlatformRun } from '../../../src/harness/load/result.js';
import type { ScheduledRequest } from '../../../src/harness/load/schedule.js';
import { TEST_KEYS } from './sample-spec.js';

/** A pool whose request call blocks the event loop for `costMs`, then returns a 200. */
function slowPool(costMs: number): Dispatcher {
  const request = () => {
    const until = performance.now() + costMs;
    while (performance.now() < until) {
      // Busy-waits on purpose: each send costs the engine `costMs` of CPU.
    }
    return Promise.resolve({
      statusCode: 200,
      headers: {},
      body: { text: () => Promise.resolve('{"state":"succeeded"}') },
    });
  };
  return { request, destroy: () => Promise.resolve() } as unknown as Dispatcher;
}

/**
 * Returns a pool that responds with a 200 at once to requests whose index is below
 * `immediate`, and to the rest after `delayMs`. Without `delayMs` the rest wait until the pool is destroyed,
 * which rejects them.
 */
function splitPool(immediate: number, delayMs?: number): Dispatcher {
  const waiting: Array<(error: Error) => void> = [];
  const ok = {
    statusCode: 200,
    headers: {},
    body: { text: () => Promise.resolve('{"state":"succeeded"}') },
  };
  const request = (options: Dispatcher.RequestOptions) => {
    const key = String((options.headers as Record<string, string>)['idempotency-key']);
    const index = Number(key.slice(key.lastIndexOf('-') + 1));
    if (index < immediate) return Promise.resolve(ok);
    return new Promise((resolve, reject) => {
      waiting.push(reject);
      if (delayMs !== undefined) setTimeout(() => resolve(ok), delayMs);
    });
  };
  const destroy = () => {
    for (const reject of waiting) reject(new Error('pool destroyed'));
    return Promise.resolve();
  };
  return { request, destroy } as unknown as Dispatcher;
}

/**
 * Returns a pool that responds to the request of each index with the status `statusOf` gives,
 * after `delayMs` for indexes at or above `delayFrom` and at once for the others.
 */
function statusPool(
  statusOf: (index: number) => number,
  delayFrom: number,
  delayMs: number,
): Dispatcher {
  const request = (options: Dispatcher.RequestOptions) => {
    const key = String((options.headers as Record<string, string>)['idempotency-key']);
    const index = Number(key.slice(key.lastIndexOf('-') + 1));
    const statusCode = statusOf(index);
    const body = statusCode === 200 ? '{"state":"succeeded"}' : '';
    const response = { statusCode, headers: {}, body: { text: () => Promise.resolve(body) } };
    if (index < delayFrom) return Promise.resolve(response);
    return new Promise((resolve) => setTimeout(() => resolve(response), delayMs));
  };
  return { request, destroy: () => Promise.resolve() } as unknown as Dispatcher;
}

/**
 * Returns a pool that responds to tenant-beta's submissions with the rejection of `limits`,
 * in turn, with no body for a `null` limit, and to every other request with a 200.
 */
function rejectingPool(limits: ReadonlyArray<string | null>): Dispatcher {
  let next = 0;
  const request = (options: Dispatcher.RequestOptions) => {
    const key = (options.headers as Record<string, string>).authorization;
    if (key !== `Bearer ${TEST_KEYS['tenant-beta']}`) {
      return Promise.resolve({
        statusCode: 200,
        headers: {},
        body: { text: () => Promise.resolve('{"state":"succeeded"}') },
      });
    }
    const limit = limits[next % limits.length] ?? null;
    next += 1;
    const body =
      limit === null
        ? ''
        : JSON.stringify({ error: { code: 'rate_limited', message: 'limit', limit } });
    return Promise.resolve({
      statusCode: 429,
      headers: { 'retry-after': '1' },
      body: { text: () => Promise.resolve(body) },
    });
  };
  return { request, destroy: () => Promise.resolve() } as unknown as Dispatcher;
}

/**
 * Returns a pool that fails the request of each odd index as a connect would when the process
 * has no file descriptor left, with `EMFILE`, and responds to the rest with a 200.
 */
function outOfDescriptorsPool(): Dispatcher {
  const request = (options: Dispatcher.RequestOptions) => {
    const key = String((options.headers as Record<string, string>)['idempotency-key']);
    const index = Number(key.slice(key.lastIndexOf('-') + 1));
    if (index % 2 === 1) {
      const error = Object.assign(new Error('connect EMFILE 127.0.0.1:9'), { code: 'EMFILE' });
      return Promise.reject(error);
    }
    return Promise.resolve({
      statusCode: 200,
      headers: {},
      body: { text: () => Promise.resolve('{"state":"succeeded"}') },
    });
  };
  return { request, destroy: () => Promise.resolve() } as unknown as Dispatcher;
}

function runWith(
  schedule: ScheduledRequest[],
  durationSec: number,
  pool: Dispatcher,
  options: RunLoadOptions,
): LoadRun {
  return new LoadRun({
    scenarioName: 'test',
    target: 'http://127.0.0.1:9',
    durationSec,
    schedule,
    keys: TEST_KEYS,
    pool,
    options: resolveLoadOptions(options),
  });
}

const PASS = { passed: true, checks: [] };

/** Returns the system clock with a monotonic reading of zero at its first read. */
function clockFromZero(): Clock {
  let base: number | undefined;
  const monotonic = () => {
    base ??= performance.now();
    return performance.now() - base;
  };
  return { ...systemClock, monotonic };
}

function evenSchedule(count: number, gapMs: number): ScheduledRequest[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    offsetMs: index * gapMs,
    tenantId: 'tenant-alpha',
    route: 'chat',
    mode: 'sync',
    taskKind: 'chat',
    inputTokens: 10,
    maxOutputTokens: 10,
  }));
}

describe('LoadRun', () => {
  it('sends new idempotency keys in each run', async () => {
    const keys: string[] = [];
    const ok = {
      statusCode: 200,
      headers: {},
      body: { text: async () => '{"state":"succeeded"}' },
    };
    const request = async (options: Dispatcher.RequestOptions) => {
      keys.push(String((options.headers as Record<string, string>)['idempotency-key']));
      return ok;
    };
    const pool = { request, destroy: async () => undefined } as unknown as Dispatcher;
    // Each run reads a clock that starts at zero, as two processes' clocks would.
    await runWith(evenSchedule(5, 1), 0.05, pool, { seed: 7, clock: clockFromZero() }).execute();
    await runWith(evenSchedule(5, 1), 0.05, pool, { seed: 7, clock: clockFromZero() }).execute();
    assert.equal(keys.length, 10);
    assert.equal(new Set(keys).size, 10);
  });

  it('marks an overloaded engine invalid', async () => {
    // 300 sends 2 ms apart, each costing 5 ms: the backlog grows until the schedule ends.
    const run = new LoadRun({
      scenarioName: 'overload',
      target: 'http://127.0.0.1:9',
      durationSec: 0.6,
      schedule: evenSchedule(300, 2),
      keys: TEST_KEYS,
      pool: slowPool(5),
      options: resolveLoadOptions({ drainTimeoutMs: 1000 }),
    });
    const result = await run.execute();
    assert.equal(result.requests.sent, 300);
    assert.equal(result.requests.succeeded, 300);
    const longest = result.schedulerStalls?.longestStallMs ?? 0;
    assert.ok(longest > 600, `longest stall ${longest} ms`);
    assert.equal(result.health.valid, false);
    assert.match(result.health.reasons[0] ?? '', /^scheduler stalled: /);
  });

  it('keeps a light schedule valid', async () => {
    const run = new LoadRun({
      scenarioName: 'light',
      target: 'http://127.0.0.1:9',
      durationSec: 0.2,
      schedule: evenSchedule(20, 10),
      keys: TEST_KEYS,
      pool: slowPool(0),
      options: resolveLoadOptions({}),
    });
    const result = await run.execute();
    assert.equal(result.requests.sent, 20);
    assert.equal(result.schedulerStalls?.behindMs, 0);
    assert.equal(result.health.valid, true);
  });

  it('marks sends failed in the generator invalid', async () => {
    const result = await runWith(evenSchedule(10, 5), 0.05, outOfDescriptorsPool(), {}).execute();
    assert.equal(result.requests.failed, 5);
    assert.deepEqual(result.errorCodes, { EMFILE: 5 });
    assert.equal(result.health.valid, false);
    assert.deepEqual(result.health.reasons, [
      '5 sends failed in the load generator (EMFILE 5): its process ran out of file ' +
        'descriptors or local ports, so the target never received them; lower ' +
        '--max-in-flight, which sizes the connection pool, or raise the open-file limit ' +
        '(ulimit -n)',
    ]);
  });

  it('keeps a target error code out of the generator errors', async () => {
    // A reply's body code is the target's, even when it reads like an errno name.
    const request = () =>
      Promise.resolve({
        statusCode: 503,
        headers: {},
        body: { text: () => Promise.resolve('{"error":{"code":"EMFILE","message":"m"}}') },
      });
    const pool = { request, destroy: () => Promise.resolve() } as unknown as Dispatcher;
    const result = await runWith(evenSchedule(4, 5), 0.05, pool, {}).execute();
    assert.deepEqual(result.errorCodes, { EMFILE: 4 });
    assert.equal(result.health.valid, true);
  });

  it('computes rpm over the send window', async () => {
    // 10 sends in a 0.5 s window: the first 5 end at once, the rest 400 ms later, in the drain.
    const pool = splitPool(5, 400);
    const options = { lateThresholdMs: 1000 };
    const result = await runWith(evenSchedule(10, 50), 0.5, pool, options).execute();
    assert.ok(result.elapsedSec > 0.8, `elapsed ${result.elapsedSec} s`);
    assert.equal(result.throughput?.windowSec, 0.5);
    assert.equal(result.throughput?.offeredRpm, 1200);
    assert.equal(result.throughput?.completedInWindow, 5);
    assert.equal(result.throughput?.completedRpm, 600);
    assert.equal(
      formatSummary(result, PASS)[1],
      '[throughput] per minute of the 0.5s send window: offered_rpm=1200 (sent) ' +
        'completed_rpm=600 (5 ended inside the window) ' +
        'succeeded_rpm=600 (5 succeeded inside the window) sent=10 dropped=0 late_sends=0',
    );
  });

  it('prints no latency without requests', async () => {
    const result = await runWith([], 0.05, slowPool(0), {}).execute();
    const summary = formatSummary(result, PASS);
    assert.equal(result.latency.overall.count, 0);
    assert.ok(summary.includes('[latency] n/a: no request ended'), summary.join('\n'));
    assert.ok(summary.includes('[success] rate=n/a of 0 ended: succeeded=0 failed=0 aborted=0'));
  });

  it('counts succeeded rpm over the send window', async () => {
    // 10 sends in a 0.5 s window: 0 to 2 succeed at once, 3 and 4 get a 503 at once, and
    // 5 to 9 succeed 400 ms later, in the drain.
    const pool = statusPool((index) => (index === 3 || index === 4 ? 503 : 200), 5, 400);
    const options = { lateThresholdMs: 1000 };
    const result = await runWith(evenSchedule(10, 50), 0.5, pool, options).execute();
    assert.equal(result.requests.succeeded, 8);
    assert.equal(result.throughput?.completedInWindow, 5);
    assert.equal(result.throughput?.succeededInWindow, 3);
    assert.equal(result.throughput?.succeededRpm, 360);
    assert.match(
      formatSummary(result, PASS)[1] ?? '',
      / completed_rpm=600 \(5 ended inside the window\) succeeded_rpm=360 \(3 succeeded inside the window\) /,
    );
  });

  it('counts sends behind schedule as late sends', async () => {
    // Each send busy-waits 30 ms, so every send after the first leaves over 10 ms late.
    const run = new LoadRun({
      scenarioName: 'late',
      target: 'http://127.0.0.1:9',
      durationSec: 0.05,
      schedule: evenSchedule(4, 1),
      keys: TEST_KEYS,
      pool: slowPool(30),
      options: resolveLoadOptions({}),
    });
    const result = await run.execute();
    assert.equal(result.requests.late, 3);
    assert.match(formatSummary(result, PASS)[1] ?? '', / sent=4 dropped=0 late_sends=3$/);
  });

  it('counts drain aborts in the final progress', async () => {
    const events: ProgressSnapshot[] = [];
    const options = { drainTimeoutMs: 100, onProgress: (p: ProgressSnapshot) => events.push(p) };
    const result = await runWith(evenSchedule(3, 10), 0.05, splitPool(1), options).execute();
    const last = events.at(-1);
    assert.equal(last?.phase, 'done');
    assert.equal(last?.aborted, 2);
    assert.equal(last?.inFlight, 0);
    assert.equal(last?.successRate, 1 / 3);
    assert.equal(result.successRate, 1 / 3);
    assert.match(formatProgress(last as ProgressSnapshot), / done rps=\S+ success=33\.3% ended=3 /);
  });

  it('reports requests cut by the drain', async () => {
    const result = await runWith(evenSchedule(3, 10), 0.05, splitPool(1), {
      drainTimeoutMs: 100,
    }).execute();
    assert.deepEqual(result.drain, { timeoutSec: 0.1, endedBy: 'timeout', aborted: 2 });
    const lines = formatSummary(result, PASS);
    assert.equal(lines[2], '[success] rate=33.3% of 3 ended: succeeded=1 failed=0 aborted=2');
    assert.equal(
      lines[3],
      '[drain] 2 requests still in flight 0.1s after the schedule ended were cut by the drain ' +
        'timeout and count as not succeeded; raise --drain-timeout to let them finish',
    );
    // The cut requests waited at least until the drain ended, so they set the p95.
    assert.ok(result.latency.overall.count === 3, `count ${result.latency.overall.count}`);
    assert.ok(result.latency.overall.p95 >= 100, `p95 ${result.latency.overall.p95} ms`);
    assert.match(
      lines[4] ?? '',
      /^\[latency\] .* \(lower bounds: 2 aborted requests count with their wait\)$/,
    );
  });

  it('words one cut request singular', async () => {
    const result = await runWith(evenSchedule(2, 10), 0.05, splitPool(1), {
      drainTimeoutMs: 100,
    }).execute();
    assert.equal(result.requests.aborted, 1);
    const lines = formatSummary(result, PASS);
    assert.equal(
      lines[3],
      '[drain] 1 request still in flight 0.1s after the schedule ended was cut by the drain ' +
        'timeout and counts as not succeeded; raise --drain-timeout to let it finish',
    );
    assert.match(
      lines[4] ?? '',
      /^\[latency\] .* \(lower bounds: 1 aborted request counts with its wait\)$/,
    );
  });

  it('ends the drain idle when all requests end', async () => {
    const result = await runWith(evenSchedule(3, 10), 0.05, splitPool(3), {}).execute();
    assert.deepEqual(result.drain, { timeoutSec: 10, endedBy: 'idle', aborted: 0 });
    assert.equal(result.successRate, 1);
  });

  it('reports a drain ended by the signal', async () => {
    // Two sends at 0 and 10 ms hang. The signal arrives in the drain, at 100 ms of a 1 s schedule.
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const options = { signal: controller.signal };
    const result = await runWith(evenSchedule(2, 10), 1, splitPool(0), options).execute();
    assert.deepEqual(result.drain, { timeoutSec: 10, endedBy: 'signal', aborted: 2 });
    assert.ok(result.elapsedSec < 1, `elapsed ${result.elapsedSec} s`);
    const windowSec = result.throughput?.windowSec ?? 0;
    assert.ok(windowSec >= 0.09, `window ${windowSec} s`);
    assert.ok(windowSec < 0.5, `window ${windowSec} s`);
    assert.equal(
      formatSummary(result, PASS)[3],
      '[drain] 2 requests in flight when the run was stopped were aborted and count as not succeeded',
    );
  });
});

describe('interruptedLine', () => {
  it('calls a run cut during its load invalid', () => {
    assert.match(
      interruptedLine('SIGINT', false),
      /^\[interrupted\] SIGINT stopped the run; .* invalid$/,
    );
  });

  it('keeps a cut cost read valid', () => {
    assert.equal(
      interruptedLine('SIGTERM', true),
      '[interrupted] SIGTERM came after the load ended, while the cost was read; the cost covers the tasks that had ended by then',
    );
  });
});

describe('formatSummary', () => {
  const topology = 'workers=2 serverless_burst=disabled';

  it('adds the topology and cost lines', async () => {
    const result = await runWith(evenSchedule(2, 10), 0.05, splitPool(2), {}).execute();
    const platform: PlatformRun = {
      topology,
      cost: {
        tasks: 89,
        totalUsd: 0.3210875,
        meanUsdPerTask: 0.0036077,
        p95UsdPerTask: 0.010685,
        unsettledTasks: 0,
        workerPoolUsd: 0.000204,
      },
    };
    const lines = formatSummary(result, PASS, platform);
    assert.equal(lines[1], `[topology] ${topology}`);
    assert.ok(
      lines.includes('[cost] avg=$0.003608/task total=$0.3211 tasks=89 worker_pool=$0.0002040'),
      lines.join('\n'),
    );
  });

  it('shows n/a cost with no priced task', async () => {
    const result = await runWith(evenSchedule(2, 10), 0.05, splitPool(2), {}).execute();
    const platform: PlatformRun = {
      topology,
      cost: {
        tasks: 0,
        totalUsd: 0,
        meanUsdPerTask: null,
        p95UsdPerTask: null,
        unsettledTasks: 0,
        workerPoolUsd: 0,
      },
    };
    const lines = formatSummary(result, PASS, platform);
    assert.ok(
      lines.includes('[cost] avg=n/a total=$0.000 tasks=0 worker_pool=n/a'),
      lines.join('\n'),
    );
  });

  it('counts unsettled tasks in the cost line', async () => {
    const result = await runWith(evenSchedule(2, 10), 0.05, splitPool(2), {}).execute();
    const platform: PlatformRun = {
      topology,
      cost: {
        tasks: 4,
        totalUsd: 0.02,
        meanUsdPerTask: 0.005,
        p95UsdPerTask: 0.005,
        unsettledTasks: 3,
        workerPoolUsd: 0.001,
      },
    };
    const lines = formatSummary(result, PASS, platform);
    assert.ok(
      lines.includes(
        '[cost] avg=$0.005000/task total=$0.02000 tasks=4 worker_pool=$0.001000 unsettled=3',
      ),
      lines.join('\n'),
    );
  });

  it('adds a line per tenant with its rejections', async () => {
    const schedule = evenSchedule(6, 5).map((request) => ({
      ...request,
      tenantId: request.index % 2 === 0 ? 'tenant-alpha' : 'tenant-beta',
    }));
    const pool = rejectingPool(['requests_per_minute', 'max_in_flight', 'requests_per_minute']);
    const result = await runWith(schedule, 0.05, pool, {}).execute();
    assert.deepEqual(result.rejectionsByTenant, {
      'tenant-beta': { requests_per_minute: 2, max_in_flight: 1 },
    });
    const lines = formatSummary(result, PASS).filter((line) => line.startsWith('[tenant]'));
    assert.equal(lines.length, 2);
    assert.match(
      lines[0] ?? '',
      /^\[tenant\] tenant-alpha success=100\.0% of 3 ended: succeeded=3 aborted=0 p95=\d+ms rejected=0$/,
    );
    assert.match(
      lines[1] ?? '',
      /^\[tenant\] tenant-beta success=0\.0% of 3 ended: succeeded=0 aborted=0 p95=\d+ms rejected=3 \(max_in_flight=1 requests_per_minute=2\)$/,
    );
  });

  it('counts only rejections that name a limit', async () => {
    const schedule = evenSchedule(2, 5).map((request) => ({ ...request, tenantId: 'tenant-beta' }));
    const result = await runWith(schedule, 0.05, rejectingPool([null]), {}).execute();
    assert.equal(result.errorCodes.http_429, 2);
    assert.deepEqual(result.rejectionsByTenant, {});
  });

  it('shows n/a success with no requests', async () => {
    const events: ProgressSnapshot[] = [];
    const options = { onProgress: (progress: ProgressSnapshot) => events.push(progress) };
    const result = await runWith([], 0.05, splitPool(0), options).execute();
    const last = events.at(-1);
    assert.ok(last !== undefined);
    assert.match(formatProgress(last), / success=n\/a ended=0 /);
    assert.equal(
      formatSummary(result, PASS)[2],
      '[success] rate=n/a of 0 ended: succeeded=0 failed=0 aborted=0',
    );
  });

  it('shows n/a async p95 with no ended task', async () => {
    const result = await runWith(evenSchedule(2, 10), 0.05, splitPool(2), {}).execute();
    result.async = { ...result.async, accepted: 3, timedOut: 0 };
    const asyncLine = formatSummary(result, PASS).find((line) => line.startsWith('[async]'));
    assert.equal(
      asyncLine,
      '[async] accepted=3 succeeded=0 failed=0 timed_out=0 aborted=0 p95=n/a',
    );
  });

  it('has no cost line without a platform', async () => {
    const result = await runWith(evenSchedule(2, 10), 0.05, splitPool(2), {}).execute();
    const lines = formatSummary(result, PASS);
    assert.equal(
      lines.find((line) => line.startsWith('[cost]') || line.startsWith('[topology]')),
      undefined,
    );
  });
});
