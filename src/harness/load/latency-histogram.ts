import { build, type Histogram } from 'hdr-histogram-js';

/**
 * Latency statistics in milliseconds. With `count` 0 (no samples) every other field is 0.
 * The embedded engine reports `min`, `mean` and `max` exact to the microsecond. Its
 * percentiles are the highest value of the HDR bucket at that rank (within 0.1%), clamped
 * to `[min, max]`, so that `min <= p50 <= p90 <= p95 <= p99 <= max` holds.
 */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** An HDR histogram of latencies, recorded in microseconds with 3 significant digits. */
export class LatencyHistogram {
  readonly #histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  /** Exact extremes and sum of the recorded values, in microseconds. */
  #minUs = Number.POSITIVE_INFINITY;
  #maxUs = 0;
  #sumUs = 0;

  /** Records one latency in milliseconds; negative values are recorded as 0. */
  record(ms: number): void {
    const us = Math.max(0, Math.round(ms * 1000));
    this.#histogram.recordValue(us);
    this.#minUs = Math.min(this.#minUs, us);
    this.#maxUs = Math.max(this.#maxUs, us);
    this.#sumUs += us;
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  /** Value at a percentile from 0 to 100, in milliseconds, clamped to the recorded min and max. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const bucketValueUs = this.#histogram.getValueAtPercentile(p);
    return Math.min(this.#maxUs, Math.max(this.#minUs, bucketValueUs)) / 1000;
  }

  summary(): LatencySummary {
    if (this.count === 0) return emptySummary();
    return {
      count: this.count,
      min: this.#minUs / 1000,
      mean: this.#sumUs / this.count / 1000,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.#maxUs / 1000,
    };
  }
}

/** Upper bounds of the percentiles objectives use, in milliseconds; null when unknown. */
export interface PercentileBounds {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/**
 * Upper bounds of the percentiles of `total` requests of which only those in `completed`
 * ended, the others counted as never ending. A percentile whose rank falls among those
 * others has no upper bound, so it is null.
 */
export function upperPercentileBounds(
  completed: LatencyHistogram,
  total: number,
): PercentileBounds {
  const bound = (fraction: number): number | null => {
    const rank = Math.ceil(fraction * total);
    if (rank > completed.count || completed.count === 0) return null;
    return completed.percentile((100 * rank) / completed.count);
  };
  return { p50: bound(0.5), p95: bound(0.95), p99: bound(0.99) };
}

export function emptySummary(): LatencySummary {
  return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
}

/** Histograms keyed by a label such as a tenant id or a route. */
export class LabelledHistograms {
  readonly #byLabel = new Map<string, LatencyHistogram>();

  record(label: string, ms: number): void {
    let histogram = this.#byLabel.get(label);
    if (histogram === undefined) {
      histogram = new LatencyHistogram();
      this.#byLabel.set(label, histogram);
    }
    histogram.record(ms);
  }

  /** Returns the histogram of `label`, or undefined when nothing was recorded under it. */
  get(label: string): LatencyHistogram | undefined {
    return this.#byLabel.get(label);
  }

  summaries(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    for (const [label, histogram] of [...this.#byLabel].sort(([a], [b]) => a.localeCompare(b))) {
      out[label] = histogram.summary();
    }
    return out;
  }
}
