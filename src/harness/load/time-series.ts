import type { TimeSeriesPoint } from './result.js';

interface Bucket {
  requests: number;
  successes: number;
  failures: number;
  aborted: number;
  latenciesMs: number[];
}

/** Receives the latency of each request that ends, with the second the series counts it in. */
export type LatencyListener = (second: number, latencyMs: number) => void;

/** Per-second counts and latencies of a run. */
export class TimeSeries {
  readonly #buckets: Bucket[] = [];
  readonly #onLatency: LatencyListener | undefined;

  constructor(onLatency?: LatencyListener) {
    this.#onLatency = onLatency;
  }

  recordSend(elapsedMs: number): void {
    this.#bucket(elapsedMs).requests += 1;
  }

  recordFinish(elapsedMs: number, success: boolean, latencyMs: number): void {
    const bucket = this.#bucket(elapsedMs);
    if (success) bucket.successes += 1;
    else bucket.failures += 1;
    this.#addLatency(bucket, elapsedMs, latencyMs);
  }

  /** Records a request the drain aborted, with its wait as its latency, a lower bound. */
  recordAbort(elapsedMs: number, waitedMs: number): void {
    const bucket = this.#bucket(elapsedMs);
    bucket.aborted += 1;
    this.#addLatency(bucket, elapsedMs, waitedMs);
  }

  points(): TimeSeriesPoint[] {
    return this.#buckets.map((bucket, second) => ({
      second,
      requests: bucket.requests,
      successes: bucket.successes,
      failures: bucket.failures,
      aborted: bucket.aborted,
      p95Ms: percentileOf(bucket.latenciesMs, 95),
    }));
  }

  #addLatency(bucket: Bucket, elapsedMs: number, latencyMs: number): void {
    bucket.latenciesMs.push(latencyMs);
    this.#onLatency?.(secondOf(elapsedMs), latencyMs);
  }

  #bucket(elapsedMs: number): Bucket {
    const second = secondOf(elapsedMs);
    for (let i = this.#buckets.length; i <= second; i++) {
      this.#buckets.push({ requests: 0, successes: 0, failures: 0, aborted: 0, latenciesMs: [] });
    }
    return this.#buckets[second] as Bucket;
  }
}

function secondOf(elapsedMs: number): number {
  return Math.max(0, Math.floor(elapsedMs / 1000));
}

/** Nearest-rank percentile of a small sample; 0 for an empty sample. */
export function percentileOf(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? 0;
}
