import type { SloLimits, SloSpec } from '../scenario/types.js';
import type { LatencySummary } from './latency-histogram.js';
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
  ['p50LatencyMs', 'p50', 0.5],
  ['p95LatencyMs', 'p95', 0.95],
  ['p99LatencyMs', 'p99', 0.99],
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
  const checks = checkLimits('', slo, overall, result.latency.overall);
  for (const [tenantId, limits] of Object.entries(slo.perTenant ?? {})) {
    const outcomes = result.successRateByTenant[tenantId] ?? {
      finished: 0,
      succeeded: 0,
      aborted: 0,
    };
    const latency = result.latency.byTenant[tenantId];
    checks.push(...checkLimits(`${tenantId}.`, limits, outcomes, latency));
  }
  return { passed: checks.every((check) => check.passed), checks };
}

/**
 * Checks one set of limits, for the whole run or for one tenant. `outcomes.aborted` counts
 * requests the drain aborted, whose latency is only known to be at least their wait. A
 * percentile q with more of them than (1 - q) of the finished requests is unknown, so its
 * check fails.
 */
function checkLimits(
  prefix: string,
  limits: SloLimits,
  outcomes: GroupOutcomes,
  latency: LatencySummary | undefined,
): ThresholdCheck[] {
  const checks: ThresholdCheck[] = [];
  if (limits.successRate !== undefined) {
    const actual = outcomes.finished === 0 ? undefined : outcomes.succeeded / outcomes.finished;
    checks.push(compare(`${prefix}successRate`, '>=', limits.successRate, actual));
  }
  for (const [field, stat, quantile] of LATENCY_FIELDS) {
    const max = limits[field];
    if (max === undefined) continue;
    const actual = latency === undefined || latency.count === 0 ? undefined : latency[stat];
    const aborted = outcomes.aborted;
    if (actual !== undefined && aborted > (1 - quantile) * outcomes.finished) {
      checks.push(unknownPercentile(`${prefix}${field}`, max, actual, aborted, outcomes.finished));
      continue;
    }
    checks.push(compare(`${prefix}${field}`, '<=', max, actual));
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
  return { name, limit, actual, passed, reason: `${name} = ${round(actual)} ${verb} ${limit}` };
}

function unknownPercentile(
  name: string,
  max: number,
  lowerBound: number,
  aborted: number,
  ended: number,
): ThresholdCheck {
  const limit = `<= ${max}`;
  return {
    name,
    limit,
    actual: lowerBound,
    passed: false,
    reason: `${name} is unknown: ${aborted} of ${ended} requests were aborted by the drain before their responses, so it is only known to be at least ${round(lowerBound)}; raise --drain-timeout to measure it`,
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
