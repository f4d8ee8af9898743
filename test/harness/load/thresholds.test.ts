import assert from 'node:assert/strict';
import {
  emptySummary,
  type PercentileBounds,
} from '../../../src/harness/load/latency-histogram.js';
import type { LoadResult } from '../../../src/harness/load/result.js';
import { evaluateThresholds } from '../../../src/harness/load/thresholds.js';

function result(overrides: Partial<LoadResult> = {}): LoadResult {
  return {
    engine: 'embedded',
    scenario: 'test',
    target: 'http://127.0.0.1:9',
    startedAt: 0,
    elapsedSec: 1,
    requests: { scheduled: 10, sent: 10, succeeded: 9, failed: 1, dropped: 0, late: 0, aborted: 0 },
    successRate: 0.9,
    latency: {
      overall: { ...emptySummary(), count: 10, p50: 100, p95: 400, p99: 900 },
      byTenant: {},
      byRoute: {},
      byTopology: {},
    },
    successRateByTenant: {},
    schedulerLag: emptySummary(),
    statusCodes: {},
    errorCodes: {},
    timeSeries: [],
    async: {
      accepted: 0,
      succeeded: 0,
      failed: 0,
      timedOut: 0,
      aborted: 0,
      endToEnd: emptySummary(),
    },
    health: { valid: true, reasons: [] },
    ...overrides,
  };
}

/** Builds a result of 40 requests, `aborted` of them cut, with `upper` as overall upper bounds. */
function cutResult(aborted: number, upper?: PercentileBounds): LoadResult {
  const requests = {
    scheduled: 40,
    sent: 40,
    succeeded: 40 - aborted,
    failed: 0,
    dropped: 0,
    late: 0,
    aborted,
  };
  if (upper === undefined) return result({ requests });
  const latency = { ...result().latency, upperBounds: { overall: upper, byTenant: {} } };
  return result({ requests, latency });
}

describe('evaluateThresholds', () => {
  it('fails a threshold on a metric with no samples', () => {
    const empty = result({
      requests: { scheduled: 0, sent: 0, succeeded: 0, failed: 0, dropped: 0, late: 0, aborted: 0 },
      latency: { overall: emptySummary(), byTenant: {}, byRoute: {}, byTopology: {} },
    });
    const verdict = evaluateThresholds(empty, { p95LatencyMs: 1000 });
    assert.equal(verdict.passed, false);
    assert.equal(verdict.checks.length, 1);
    assert.equal(verdict.checks[0]?.actual, undefined);
    assert.equal(verdict.checks[0]?.reason, 'p95LatencyMs: no samples, so <= 1000 cannot hold');
  });

  it('fails a per-tenant threshold for a tenant with no samples', () => {
    const verdict = evaluateThresholds(result(), {
      perTenant: { 'tenant-beta': { successRate: 0.5 } },
    });
    assert.equal(verdict.passed, false);
    assert.equal(
      verdict.checks[0]?.reason,
      'tenant-beta.successRate: no samples, so >= 0.5 cannot hold',
    );
  });

  it('fails a percentile that aborted requests leave unknown', () => {
    // 14 of 29 requests were cut by the drain: more than the 5% above a p95.
    const cut = result({
      requests: {
        scheduled: 29,
        sent: 29,
        succeeded: 15,
        failed: 0,
        dropped: 0,
        late: 0,
        aborted: 14,
      },
      latency: {
        ...result().latency,
        upperBounds: { overall: { p50: 300, p95: null, p99: null }, byTenant: {} },
      },
    });
    const verdict = evaluateThresholds(cut, { p95LatencyMs: 1000, p50LatencyMs: 1000 });
    const p95 = verdict.checks.find((check) => check.name === 'p95LatencyMs');
    assert.equal(p95?.passed, false);
    assert.equal(
      p95?.reason,
      'p95LatencyMs is unknown: 14 of 29 requests were cut off before their responses, so it is at least 400 with no upper bound; raise --drain-timeout, or let the run end without an interrupt, to measure it',
    );
    // Fewer than half were cut, so the median has an upper bound, and it meets the limit.
    const p50 = verdict.checks.find((check) => check.name === 'p50LatencyMs');
    assert.equal(p50?.passed, true);
    assert.equal(p50?.actual, 300);
  });

  it('passes a percentile on its upper bound', () => {
    const fewAborted = cutResult(1, { p50: 120, p95: 600, p99: null });
    const verdict = evaluateThresholds(fewAborted, { p95LatencyMs: 1000 });
    assert.equal(verdict.checks[0]?.passed, true);
    assert.equal(
      verdict.checks[0]?.reason,
      'p95LatencyMs <= 600 meets <= 1000 (an upper bound: 1 of 40 requests were cut off before their responses, counted as never ending)',
    );
  });

  it('leaves a percentile between its bounds unknown', () => {
    // The lower bound of 400 meets the limit, but the cut requests may have taken up to
    // the upper bound of 5000, so the objective is not shown to hold.
    const fewAborted = cutResult(1, { p50: 120, p95: 5000, p99: null });
    const verdict = evaluateThresholds(fewAborted, { p95LatencyMs: 1000 });
    assert.equal(verdict.checks[0]?.passed, false);
    assert.match(verdict.checks[0]?.reason ?? '', /is at least 400 with at most 5000;/);
  });

  it('fails a percentile on its lower bound', () => {
    const cut = cutResult(10, { p50: 120, p95: null, p99: null });
    const verdict = evaluateThresholds(cut, { p95LatencyMs: 300 });
    assert.equal(verdict.checks[0]?.passed, false);
    assert.equal(verdict.checks[0]?.actual, 400);
    assert.match(
      verdict.checks[0]?.reason ?? '',
      /^p95LatencyMs >= 400 violates <= 300 \(a lower bound: /,
    );
  });

  it('leaves a percentile unknown without upper bounds', () => {
    const saved = cutResult(1);
    const verdict = evaluateThresholds(saved, { p95LatencyMs: 1000 });
    assert.equal(verdict.checks[0]?.passed, false);
    assert.match(verdict.checks[0]?.reason ?? '', /with no upper bound;/);
  });

  it('fails a per-tenant percentile of aborted requests', () => {
    // Every request of tenant-alpha was cut by the drain after a short wait, so its p95 of
    // 200 ms is a lower bound only and cannot show that the 4000 ms objective held.
    const cut = result({
      successRateByTenant: { 'tenant-alpha': { finished: 3, succeeded: 0, aborted: 3 } },
      latency: {
        overall: { ...emptySummary(), count: 10, p50: 100, p95: 400, p99: 900 },
        byTenant: { 'tenant-alpha': { ...emptySummary(), count: 3, p50: 150, p95: 200 } },
        byRoute: {},
        byTopology: {},
      },
    });
    const verdict = evaluateThresholds(cut, {
      perTenant: { 'tenant-alpha': { p95LatencyMs: 4000 } },
    });
    assert.equal(verdict.passed, false);
    assert.equal(verdict.checks.length, 1);
    assert.equal(verdict.checks[0]?.name, 'tenant-alpha.p95LatencyMs');
    assert.equal(verdict.checks[0]?.actual, 200);
    assert.equal(
      verdict.checks[0]?.reason,
      'tenant-alpha.p95LatencyMs is unknown: 3 of 3 requests were cut off before their responses, so it is at least 200 with no upper bound; raise --drain-timeout, or let the run end without an interrupt, to measure it',
    );
  });

  it('checks a per-tenant percentile with few aborts', () => {
    // 1 of 40 aborted is under the 5% above a p95, so the p95 has an upper bound; the p99 not.
    const fewAborted = result({
      successRateByTenant: { 'tenant-alpha': { finished: 40, succeeded: 39, aborted: 1 } },
      latency: {
        overall: { ...emptySummary(), count: 10, p50: 100, p95: 400, p99: 900 },
        byTenant: { 'tenant-alpha': { ...emptySummary(), count: 40, p95: 300, p99: 700 } },
        byRoute: {},
        byTopology: {},
        upperBounds: {
          overall: { p50: 100, p95: 400, p99: 900 },
          byTenant: { 'tenant-alpha': { p50: 150, p95: 320, p99: null } },
        },
      },
    });
    const verdict = evaluateThresholds(fewAborted, {
      perTenant: { 'tenant-alpha': { p95LatencyMs: 4000, p99LatencyMs: 4000 } },
    });
    const p95 = verdict.checks.find((check) => check.name === 'tenant-alpha.p95LatencyMs');
    const p99 = verdict.checks.find((check) => check.name === 'tenant-alpha.p99LatencyMs');
    assert.equal(p95?.passed, true);
    assert.equal(
      p95?.reason,
      'tenant-alpha.p95LatencyMs <= 320 meets <= 4000 (an upper bound: 1 of 40 requests were cut off before their responses, counted as never ending)',
    );
    assert.equal(p99?.passed, false);
    assert.match(p99?.reason ?? '', /^tenant-alpha\.p99LatencyMs is unknown: 1 of 40 requests/);
  });

  it('passes and fails measured values', () => {
    const verdict = evaluateThresholds(result(), {
      successRate: 0.85,
      p95LatencyMs: 500,
      p99LatencyMs: 800,
    });
    assert.deepEqual(
      verdict.checks.map((check) => [check.name, check.passed]),
      [
        ['successRate', true],
        ['p95LatencyMs', true],
        ['p99LatencyMs', false],
      ],
    );
    assert.equal(verdict.passed, false);
    assert.equal(verdict.checks[2]?.reason, 'p99LatencyMs = 900 violates <= 800');
  });

  /** Returns the reason of the one check of `slo` on a result of `succeeded` of 2000 and `p95`. */
  function reasonOf(succeeded: number, p95: number, slo: Parameters<typeof evaluateThresholds>[1]) {
    const requests = {
      scheduled: 2000,
      sent: 2000,
      succeeded,
      failed: 2000 - succeeded,
      dropped: 0,
      late: 0,
      aborted: 0,
    };
    const overall = { ...emptySummary(), count: 2000, p50: 100, p95, p99: p95 };
    const latency = { ...result().latency, overall };
    const verdict = evaluateThresholds(result({ requests, latency }), slo);
    assert.equal(verdict.checks.length, 1);
    return verdict.checks[0]?.reason;
  }

  it('shows a failing rate below its bound', () => {
    // 1979 of 2000 is 0.9895, which rounding to the nearest 3 digits would show as 0.99.
    assert.equal(
      reasonOf(1979, 100, { successRate: 0.99 }),
      'successRate = 0.989 violates >= 0.99',
    );
  });

  it('rounds a rate down as the summary does', () => {
    // 1753 of 2000 is 0.8765; the summary prints rate=87.6%.
    assert.equal(reasonOf(1753, 100, { successRate: 0.9 }), 'successRate = 0.876 violates >= 0.9');
  });

  it('shows a rate at its bound as meeting it', () => {
    assert.equal(reasonOf(1980, 100, { successRate: 0.99 }), 'successRate = 0.99 meets >= 0.99');
  });

  it('shows a failing latency above its bound', () => {
    assert.equal(
      reasonOf(2000, 7999.5004, { p95LatencyMs: 7999.5 }),
      'p95LatencyMs = 7999.501 violates <= 7999.5',
    );
  });

  it('adds digits where 3 would cross the bound', () => {
    assert.equal(
      reasonOf(2000, 7999.5004, { p95LatencyMs: 7999.5006 }),
      'p95LatencyMs = 7999.5004 meets <= 7999.5006',
    );
  });

  it('shows a passing latency at most its bound', () => {
    assert.equal(
      reasonOf(2000, 7999.4996, { p95LatencyMs: 7999.5 }),
      'p95LatencyMs = 7999.5 meets <= 7999.5',
    );
  });

  it('uses per-tenant outcomes and latency', () => {
    const verdict = evaluateThresholds(
      result({
        successRateByTenant: { 'tenant-alpha': { finished: 4, succeeded: 4, aborted: 0 } },
        latency: {
          overall: emptySummary(),
          byTenant: { 'tenant-alpha': { ...emptySummary(), count: 4, p95: 200 } },
          byRoute: {},
          byTopology: {},
        },
      }),
      { perTenant: { 'tenant-alpha': { successRate: 1, p95LatencyMs: 250 } } },
    );
    assert.equal(verdict.passed, true);
    assert.equal(verdict.checks.length, 2);
  });
});
