import { percentileOf } from './time-series.js';

/**
 * Latencies of a run per second, keyed by the whole second in which each request ended, as
 * the time series counts it. A percentile over a window of seconds takes every request of
 * the window, which no combination of per-second percentiles gives.
 */
export class LatencyBySecond {
  readonly #bySecond = new Map<number, number[]>();

  /** Records one latency in milliseconds under `second`. */
  record(second: number, ms: number): void {
    const latencies = this.#bySecond.get(second);
    if (latencies === undefined) {
      this.#bySecond.set(second, [ms]);
    } else {
      latencies.push(ms);
    }
  }

  /**
   * Returns the nearest-rank percentile `p` (0 to 100) of the latencies of `seconds`, in
   * milliseconds, by the method of the time series' per-second p95; null when none of them
   * recorded a latency.
   */
  percentile(seconds: Iterable<number>, p: number): number | null {
    const window = [...new Set(seconds)].flatMap((second) => this.#bySecond.get(second) ?? []);
    return window.length === 0 ? null : percentileOf(window, p);
  }
}
