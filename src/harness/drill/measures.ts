import type { SeriesPoint } from '../report/types.js';
import type { AbortRule, SeriesMeasure } from './spec.js';

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

/**
 * Computes a series measure over a window; null when the window contains no request.
 * NOTE: p95S is the request-weighted mean of the per-second p95 values, an
 * approximation, because the series carries no histogram per second.
 */
export function measureWindow(
  points: readonly SeriesPoint[],
  measure: SeriesMeasure,
): number | null {
  const requests = sum(points, (point) => point.requests);
  if (requests === 0) {
    return null;
  }
  switch (measure) {
    case 'successRate':
      return sum(points, (point) => point.successes) / requests;
    case 'failoverRate':
      return sum(points, (point) => point.failovers) / requests;
    case 'p95S':
      return sum(points, (point) => point.p95S * point.requests) / requests;
  }
}

function breaches(rule: AbortRule, value: number | null): boolean {
  if (value === null) {
    return false;
  }
  return rule.comparator === 'below' ? value < rule.threshold : value > rule.threshold;
}

/**
 * Returns the window value when every second of the last `forS` complete seconds before
 * `nowS` breaches the rule, else null.
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
  const every = points.every((point) => breaches(rule, measureWindow([point], rule.measure)));
  return every ? measureWindow(points, rule.measure) : null;
}
