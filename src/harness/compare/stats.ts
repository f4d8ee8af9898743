/** Median and range of one figure over the runs of a group that measured it. */
export interface FigureStats {
  /** Values of the runs that measured the figure, in the order the files were given. */
  values: number[];
  /** Runs in the group, including those that did not measure the figure. */
  runs: number;
  /** Null when no run of the group measured the figure. */
  median: number | null;
  min: number | null;
  max: number | null;
}

/** Returns the median, minimum and maximum of `values`, ignoring nulls. */
export function figureStats(values: readonly (number | null)[]): FigureStats {
  const measured = values.filter((value): value is number => value !== null);
  const sorted = [...measured].sort((a, b) => a - b);
  return {
    values: measured,
    runs: values.length,
    median: medianOfSorted(sorted),
    min: sorted[0] ?? null,
    max: sorted.at(-1) ?? null,
  };
}

function medianOfSorted(sorted: readonly number[]): number | null {
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle];
  if (upper === undefined) return null;
  if (sorted.length % 2 === 1) return upper;
  return ((sorted[middle - 1] ?? upper) + upper) / 2;
}

/**
 * Returns the change from `base` to `value` in percent of `base`: 0 when both are 0, and
 * null when `base` is 0 and `value` is not, when either is missing, or when the change is too
 * large for a float.
 */
export function percentChange(base: number | null, value: number | null): number | null {
  if (base === null || value === null) return null;
  if (base === 0) return value === 0 ? 0 : null;
  // Multiplying before dividing keeps round inputs exact: (1100 - 1000) * 100 / 1000 is 10.
  const change = ((value - base) * 100) / Math.abs(base);
  if (Number.isFinite(change)) return change;
  // Near the float limit the product overflows where the quotient may not.
  const quotient = ((value - base) / Math.abs(base)) * 100;
  return Number.isFinite(quotient) ? quotient : null;
}

/**
 * `within` when the ranges of two groups overlap, `beyond` when they do not, and `unknown`
 * when either group has fewer than two measured runs, so its spread is not known.
 */
export type NoiseMark = 'within' | 'beyond' | 'unknown';

export function noiseMark(base: FigureStats, other: FigureStats): NoiseMark {
  if (base.values.length < 2 || other.values.length < 2) return 'unknown';
  if (base.min === null || base.max === null || other.min === null || other.max === null) {
    return 'unknown';
  }
  return Math.max(base.min, other.min) <= Math.min(base.max, other.max) ? 'within' : 'beyond';
}
