import type { ProbeSpec, SeriesMeasure } from './spec.js';

/** Values a series measure can take; `max` is Infinity for a measure without an upper bound. */
export interface MeasureRange {
  min: number;
  max: number;
  text: string;
}

const MEASURE_RANGES: Record<SeriesMeasure, MeasureRange> = {
  successRate: { min: 0, max: 1, text: 'from 0 to 1' },
  p95S: { min: 0, max: Number.POSITIVE_INFINITY, text: '0 or more' },
  // One request can fail over more than once, so failovers per request can exceed 1.
  failoverRate: { min: 0, max: Number.POSITIVE_INFINITY, text: '0 or more' },
  queueDepth: { min: 0, max: Number.POSITIVE_INFINITY, text: '0 or more' },
  queueOldestAgeS: { min: 0, max: Number.POSITIVE_INFINITY, text: '0 or more' },
};

/** Returns the values a probe's measure can take; undefined for a `metrics` probe. */
export function measureRange(probe: ProbeSpec): MeasureRange | undefined {
  if (probe.source !== 'series') return undefined;
  return Object.hasOwn(MEASURE_RANGES, probe.measure)
    ? MEASURE_RANGES[probe.measure as SeriesMeasure]
    : undefined;
}

/**
 * Returns why a probe with `tolerance` cannot fail, or undefined when some value of its
 * measure fails it. A `min` limit at or below the lowest value, or a `max` limit at or
 * above the highest, admits every value.
 * NOTE: a `metrics` probe is never called vacuous, because the range of an arbitrary
 * Prometheus series is unknown.
 */
export function vacuousLimitReason(probe: ProbeSpec, tolerance: number): string | undefined {
  const range = measureRange(probe);
  if (range === undefined) return undefined;
  const min = probe.comparator === 'min';
  const limit = min ? probe.threshold - tolerance : probe.threshold + tolerance;
  const admitsAll = min ? limit <= range.min : limit >= range.max;
  if (!admitsAll) return undefined;
  const rounded = Number(limit.toFixed(6));
  return (
    `the tolerance admits every value: ${probe.measure} runs ${range.text}, and ` +
    `${min ? 'no value is below' : 'no value is above'} the limit ${rounded}`
  );
}
