import type { SloLimits, SloSpec } from '../scenario/types.js';
import type { LatencySummary, PercentileBounds } from './latency-histogram.js';
import type { GroupOutcomes, LoadResult } from './result.js';
import { endedCount } from './success-rate.js';

/** Verdict on one service-level objective. */
export interface ThresholdCheck {
  /** Metric name, such as `p95LatencyMs` or `tenant-alpha.successRate`. */
  name: string;
  /** Comparison, such as `>= 0.99` or `<= 3000`. */
  limit: string;
  /** Measured value; undefined when the metric got no samples. */
  actual: number | undefined;
  passed: boolean;
  reason: string;
}

export interface ThresholdVerdict {
  passed: boolean;
  checks: ThresholdCheck[];
}

const LATENCY_FIELDS = [
  ['p50LatencyMs', 'p50'],
  ['p95LatencyMs', 'p95'],
  ['p99LatencyMs', 'p99'],
] as const;

/**
 * Compares a result with its service-level objectives. A threshold on a metric
 * that got no samples fails, because an absent measurement proves nothing.
 */
export function evaluateThresholds(result: LoadResult, slo: SloSpec): ThresholdVerdict {
  const overall = {
    finished: endedCount(result.requests),
    succeeded: result.requests.succeeded,
    aborted: result.requests.aborted,
  };
  const upper = result.latency.upperBounds;
  const checks = checkLimits('', slo, overall, result.latency.overall, upper?.overall);
  for (const [tenantId, limits] of Object.entries(slo.perTenant ?? {})) {
    const outcomes = result.successRateByTenant[tenantId] ?? {
      finished: 0,
      succeeded: 0,
      aborted: 0,
    };
    const latency = result.latency.byTenant[tenantId];
    const bounds = upper?.byTenant[tenantId];
    checks.push(...checkLimits(`${tenantId}.`, limits, outcomes, latency, bounds));
  }
  return { passed: checks.every((check) => check.passed), checks };
}

/**
 * Checks one set of limits, for the whole run or for one tenant. `outcomes.aborted` counts
 * requests cut off before their responses, whose latency is only known to be at least their
 * wait, so with aborts `latency` contains lower bounds and `upper` the upper bounds. A latency
 * check with aborts passes only when the upper bound meets the limit and fails when the
 * lower bound exceeds it. In between, or with no upper bound, it is unknown and fails.
 */
function checkLimits(
  prefix: string,
  limits: SloLimits,
  outcomes: GroupOutcomes,
  latency: LatencySummary | undefined,
  upper: PercentileBounds | undefined,
): ThresholdCheck[] {
  const checks: ThresholdCheck[] = [];
  if (limits.successRate !== undefined) {
    const actual = outcomes.finished === 0 ? undefined : outcomes.succeeded / outcomes.finished;
    checks.push(compare(`${prefix}successRate`, '>=', limits.successRate, actual));
  }
  for (const [field, stat] of LATENCY_FIELDS) {
    const max = limits[field];
    if (max === undefined) continue;
    const actual = latency === undefined || latency.count === 0 ? undefined : latency[stat];
    const aborted = outcomes.aborted;
    const name = `${prefix}${field}`;
    if (actual === undefined || aborted === 0) {
      checks.push(compare(name, '<=', max, actual));
      continue;
    }
    // A result without upper bounds, such as one saved by an older version, leaves none.
    const bounds = {
      lower: actual,
      upper: upper?.[stat] ?? null,
      aborted,
      ended: outcomes.finished,
    };
    checks.push(checkBounded(name, max, bounds));
  }
  return checks;
}

function compare(
  name: string,
  op: '>=' | '<=',
  bound: number,
  actual: number | undefined,
): ThresholdCheck {
  const limit = `${op} ${bound}`;
  if (actual === undefined) {
    return {
      name,
      limit,
      actual,
      passed: false,
      reason: `${name}: no samples, so ${limit} cannot hold`,
    };
  }
  const passed = op === '>=' ? actual >= bound : actual <= bound;
  const verb = passed ? 'meets' : 'violates';
  const reason = `${name} = ${shown(actual, op, bound)} ${verb} ${limit}`;
  return { name, limit, actual, passed, reason };
}

interface PercentileRange {
  lower: number;
  /** Null when the aborts leave the percentile without an upper bound. */
  upper: number | null;
  aborted: number;
  ended: number;
}

/** Checks a latency percentile that aborted requests leave within `range`. */
function checkBounded(name: string, max: number, range: PercentileRange): ThresholdCheck {
  const limit = `<= ${max}`;
  const cut = `${range.aborted} of ${range.ended} requests were cut off before their responses`;
  if (range.lower > max) {
    const reason = `${name} >= ${shown(range.lower, '<=', max)} violates ${limit} (a lower bound: ${cut})`;
    return { name, limit, actual: range.lower, passed: false, reason };
  }
  if (range.upper !== null && range.upper <= max) {
    const reason = `${name} <= ${shown(range.upper, '<=', max)} meets ${limit} (an upper bound: ${cut}, counted as never ending)`;
    return { name, limit, actual: range.upper, passed: true, reason };
  }
  const upperText = range.upper === null ? 'no upper bound' : `at most ${round(range.upper)}`;
  return {
    name,
    limit,
    actual: range.lower,
    passed: false,
    reason: `${name} is unknown: ${cut}, so it is at least ${round(range.lower)} with ${upperText}; raise --drain-timeout, or let the run end without an interrupt, to measure it`,
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Digits after the point that a value shows at least, and at most. */
const SHOWN_DIGITS = { min: 3, max: 12 };

/**
 * Returns `actual` as a reason shows it: 3 digits after the point, rounded down for `>=`
 * and up for `<=`, as the summary rounds the success rate down. Where that would put the
 * shown value on the other side of the bound from `actual`, it shows more digits.
 */
function shown(actual: number, op: '>=' | '<=', bound: number): number {
  const meetsBound = (value: number) => (op === '>=' ? value >= bound : value <= bound);
  const passed = meetsBound(actual);
  for (let digits = SHOWN_DIGITS.min; digits <= SHOWN_DIGITS.max; digits += 1) {
    const scale = 10 ** digits;
    // The tolerance keeps a product such as 1.005 * 1000 = 1004.9999999999999 at 1005.
    const scaled = actual * scale;
    const value =
      op === '>=' ? Math.floor(scaled + 1e-6) / scale : Math.ceil(scaled - 1e-6) / scale;
    if (meetsBound(value) === passed) return value;
  }
  return actual;
}
