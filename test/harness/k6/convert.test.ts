import assert from 'node:assert/strict';
import { convertK6Summary, isK6SummaryError } from '../../../src/harness/k6/convert.js';
import { isK6NotFoundError, runK6 } from '../../../src/harness/k6/run.js';
import { formatSummary } from '../../../src/harness/load/format.js';
import { evaluateThresholds } from '../../../src/harness/load/thresholds.js';
import { sampleSpec, TEST_KEYS } from '../load/sample-spec.js';

/** A summary in the shape k6 passes to handleSummary: metrics.<name>.values. */
const SUMMARY = {
  root_group: {
    name: '',
    path: '',
    id: 'd41d8cd98f00b204e9800998ecf8427e',
    groups: [],
    checks: [],
  },
  options: {
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'],
    noColor: false,
  },
  state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 60250.5 },
  metrics: {
    iterations: { type: 'counter', contains: 'default', values: { count: 298, rate: 4.95 } },
    dropped_iterations: { type: 'counter', contains: 'default', values: { count: 2, rate: 0.03 } },
    checks: { type: 'rate', contains: 'default', values: { rate: 0.98, passes: 292, fails: 6 } },
    scalegate_success: {
      type: 'rate',
      contains: 'default',
      values: { rate: 0.98, passes: 292, fails: 6 },
    },
    scalegate_latency: {
      type: 'trend',
      contains: 'time',
      values: {
        avg: 412.5,
        min: 80.1,
        med: 350.2,
        max: 2900,
        'p(90)': 700,
        'p(95)': 910.4,
        'p(99)': 1800,
        count: 298,
      },
      thresholds: { 'p(95)<=2000': { ok: true } },
    },
    'scalegate_latency{tenant:tenant-alpha}': {
      type: 'trend',
      contains: 'time',
      values: {
        avg: 400,
        min: 80.1,
        med: 340,
        max: 2500,
        'p(90)': 690,
        'p(95)': 900,
        'p(99)': 1700,
        count: 150,
      },
    },
    'scalegate_success{tenant:tenant-alpha}': {
      type: 'rate',
      contains: 'default',
      values: { rate: 0.99, passes: 149, fails: 1 },
    },
    scalegate_async_accepted: {
      type: 'counter',
      contains: 'default',
      values: { count: 30, rate: 0.5 },
    },
    scalegate_async_succeeded: {
      type: 'counter',
      contains: 'default',
      values: { count: 28, rate: 0.46 },
    },
    scalegate_async_timeouts: {
      type: 'counter',
      contains: 'default',
      values: { count: 2, rate: 0.03 },
    },
    http_req_duration: {
      type: 'trend',
      contains: 'time',
      values: {
        avg: 300,
        min: 1,
        med: 250,
        max: 2800,
        'p(90)': 600,
        'p(95)': 800,
        'p(99)': 1500,
        count: 420,
      },
    },
  },
};

describe('convertK6Summary', () => {
  it('computes offered rpm over the scheduled duration', () => {
    // k6's run time (60.25 s) includes the graceful stop; the window is the scheduled 60 s.
    const result = convertK6Summary(SUMMARY, { durationSec: 60 });
    assert.deepEqual(result.throughput, { windowSec: 60, offeredRpm: 298 });
  });

  it('leaves out throughput without a duration', () => {
    assert.equal(convertK6Summary(SUMMARY).throughput, undefined);
  });

  it('converts k6 summary data into a load result', () => {
    const result = convertK6Summary(SUMMARY, {
      scenario: 'steady-chat',
      target: 'http://127.0.0.1:8080',
    });
    assert.equal(result.engine, 'k6');
    assert.equal(result.scenario, 'steady-chat');
    assert.equal(result.elapsedSec, 60.2505);

    assert.deepEqual(result.requests, {
      scheduled: 300,
      sent: 298,
      succeeded: 292,
      failed: 6,
      dropped: 2,
      late: 0,
      aborted: 0,
    });
    assert.equal(result.successRate, 292 / 298);

    assert.deepEqual(result.latency.overall, {
      count: 298,
      min: 80.1,
      mean: 412.5,
      p50: 350.2,
      p90: 700,
      p95: 910.4,
      p99: 1800,
      max: 2900,
    });
    assert.equal(result.latency.byTenant['tenant-alpha']?.p95, 900);
    assert.deepEqual(result.successRateByTenant, {
      'tenant-alpha': { finished: 150, succeeded: 149, aborted: 0 },
    });

    assert.deepEqual(result.checks, { passes: 292, fails: 6 });
    assert.equal(result.async.accepted, 30);
    assert.equal(result.async.timedOut, 2);
  });

  it('counts a metric missing from the summary as 0', () => {
    const result = convertK6Summary({ metrics: { iterations: { values: { count: 5 } } } });
    assert.equal(result.requests.sent, 5);
    assert.equal(result.requests.dropped, 0);
    assert.equal(result.requests.succeeded, 0);
    assert.equal(result.async.failed, 0);
    assert.deepEqual(result.checks, { passes: 0, fails: 0 });
    assert.equal(result.latency.overall.count, 0);
    assert.equal(result.successRate, 0);
  });

  it('marks many dropped iterations as an invalid run', () => {
    const result = convertK6Summary({
      metrics: {
        dropped_iterations: { values: { count: 50 } },
        scalegate_success: { values: { passes: 50, fails: 0 } },
      },
    });
    assert.equal(result.health.valid, false);
    assert.equal(result.health.reasons.length, 1);
  });

  it('prints no lag k6 did not measure', () => {
    const result = convertK6Summary(SUMMARY, { scenario: 'steady-chat', durationSec: 60 });
    const lines = formatSummary(result, evaluateThresholds(result, {}));
    assert.equal(
      lines.find((line) => line.startsWith('[harness]')),
      '[harness] valid lag_p99=n/a',
    );
  });

  it('prints no late sends k6 did not count', () => {
    const result = convertK6Summary(SUMMARY, { scenario: 'steady-chat', durationSec: 60 });
    const lines = formatSummary(result, evaluateThresholds(result, {}));
    const throughput = lines.find((line) => line.startsWith('[throughput]')) ?? '';
    assert.match(throughput, / sent=298 dropped=2 late_sends=n\/a$/);
  });

  it('rejects input that is not a summary object', () => {
    assert.throws(
      () => convertK6Summary([1, 2]),
      (error: unknown) => isK6SummaryError(error),
    );
  });
});

describe('runK6', () => {
  it('says clearly that k6 was not found', async () => {
    await assert.rejects(
      runK6(sampleSpec(), { keys: TEST_KEYS, path: '/nonexistent-scalegate-bin' }),
      (error: unknown) => {
        assert.ok(isK6NotFoundError(error));
        assert.equal(
          error.message,
          'k6 was not found on PATH; install k6 or run with --engine embedded',
        );
        assert.deepEqual(error.searched, ['/nonexistent-scalegate-bin']);
        return true;
      },
    );
  });
});
