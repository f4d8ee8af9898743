import type { LatencyBySecond } from '../load/latency-by-second.js';
import type { SeriesPoint } from '../report/types.js';
import {
  type AbortRule,
  isQueueMeasure,
  type QueueMeasure,
  type RateMeasure,
  type SeriesMeasure,
} from './spec.js';

/** Points whose one-second bucket lies inside [fromS, toS). */
export function pointsIn(
  series: readonly SeriesPoint[],
  fromS: number,
  toS: number,
): SeriesPoint[] {
  return series.filter((point) => point.t >= fromS && point.t + 1 <= toS);
}

function sum(points: readonly SeriesPoint[], pick: (point: SeriesPoint) => number): number {
  return points.reduce((total, point) => total + pick(point), 0);
}

/** Computes a rate over a window from its counts; null when the window contains no request. */
export function measureWindow(points: readonly SeriesPoint[], measure: RateMeasure): number | null {
  const requests = sum(points, (point) => point.requests);
  if (requests === 0) {
    return null;
  }
  switch (measure) {
    case 'successRate':
      return sum(points, (point) => point.successes) / requests;
    case 'failoverRate':
      return sum(points, (point) => point.failovers) / requests;
  }
}

/**
 * Returns the maximum of a queue gauge over the window's seconds that have a read; null when
 * none has one.
 */
export function queueMax(points: readonly SeriesPoint[], measure: QueueMeasure): number | null {
  const values = points.flatMap((point) => {
    const value = point[measure];
    return value === undefined ? [] : [value];
  });
  return values.length === 0 ? null : Math.max(...values);
}

/**
 * Computes the 95th percentile latency in seconds over every request that ended in the
 * window's seconds; null when none ended. It takes the nearest rank, as the per-second p95
 * of the series does, so a window of one second gives that second's p95.
 */
export function windowP95(
  points: readonly SeriesPoint[],
  latencies: LatencyBySecond,
): number | null {
  const p95Ms = latencies.percentile(
    points.map((point) => point.t),
    95,
  );
  return p95Ms === null ? null : p95Ms / 1000;
}

/**
 * Returns a measure of one second: a rate from its counts, null without requests, its p95,
 * null without a success because only succeeded requests are timed, or its queue gauge,
 * null without a read.
 */
function secondValue(point: SeriesPoint, measure: SeriesMeasure): number | null {
  if (isQueueMeasure(measure)) return point[measure] ?? null;
  if (measure !== 'p95S') return measureWindow([point], measure);
  return point.successes === 0 ? null : point.p95S;
}

function breaches(rule: AbortRule, value: number | null): value is number {
  if (value === null) {
    return false;
  }
  return rule.comparator === 'below' ? value < rule.threshold : value > rule.threshold;
}

/**
 * Returns a value when every second of the last `forS` complete seconds before `nowS`
 * breaches the rule, else null. For a rate the value is the window's rate. For `p95S` and
 * the queue gauges it is the per-second value closest to the threshold, because the live
 * series carries only each second's p95, not the latencies behind it. Every second of the
 * window was at least that far past the threshold.
 */
export function firedValue(
  rule: AbortRule,
  series: readonly SeriesPoint[],
  nowS: number,
): number | null {
  const end = Math.floor(nowS);
  const points = pointsIn(series, end - rule.forS, end);
  if (points.length < Math.ceil(rule.forS)) {
    return null;
  }
  const values = points.map((point) => secondValue(point, rule.measure));
  if (!values.every((value) => breaches(rule, value))) {
    return null;
  }
  if (rule.measure === 'successRate' || rule.measure === 'failoverRate') {
    return measureWindow(points, rule.measure);
  }
  const breached = values.filter((value) => value !== null);
  return rule.comparator === 'above' ? Math.min(...breached) : Math.max(...breached);
}
