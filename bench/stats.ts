/**
 * Returns the median of `values`: the middle value of an odd count, the mean of the two
 * middle values of an even count, and NaN for none.
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

/**
 * Returns the nearest-rank percentile `p` (0 < p <= 1) of `sorted`, which must be sorted
 * ascending: the smallest value with at least p of the values at or below it. NaN for none.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!(p > 0 && p <= 1)) {
    throw new RangeError(`percentile must be in (0, 1], got ${p}; pass 0.99 for p99`);
  }
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.max(0, rank - 1)] ?? Number.NaN;
}
