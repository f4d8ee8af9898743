import { build, type Histogram } from 'hdr-histogram-js';

/** Latency percentiles in milliseconds; `count` 0 means no samples, and then every other field is 0. */
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

  /** Records one latency in milliseconds; negative values are recorded as 0. */
  record(ms: number): void {
    this.#histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  /** Value at a percentile from 0 to 100, in milliseconds. */
  percentile(p: number): number {
    return this.count === 0 ? 0 : this.#histogram.getValueAtPercentile(p) / 1000;
  }

  summary(): LatencySummary {
    if (this.count === 0) return emptySummary();
    const h = this.#histogram;
    return {
      count: h.totalCount,
      min: this.#minMs(),
      mean: h.mean / 1000,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: h.maxValue / 1000,
    };
  }

  #minMs(): number {
    // minNonZeroValue ignores recorded zeros, so the 0th percentile is the minimum.
    return this.#histogram.getValueAtPercentile(0) / 1000;
  }
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

  summaries(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    for (const [label, histogram] of [...this.#byLabel].sort(([a], [b]) => a.localeCompare(b))) {
      out[label] = histogram.summary();
    }
    return out;
  }
}
