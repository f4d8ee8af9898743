/** Counts of two outcomes over the last `windowMs`, kept in fixed time buckets. */
export class SlidingWindowCounter {
  readonly #bucketMs: number;
  readonly #buckets: { start: number; successes: number; failures: number }[] = [];
  readonly #windowMs: number;

  constructor(windowMs: number, buckets = 10) {
    this.#windowMs = windowMs;
    this.#bucketMs = Math.max(1, Math.ceil(windowMs / buckets));
  }

  /** Records one outcome at `now` (monotonic milliseconds). */
  record(now: number, outcome: 'success' | 'failure'): void {
    const bucket = this.#current(now);
    if (outcome === 'success') {
      bucket.successes += 1;
    } else {
      bucket.failures += 1;
    }
  }

  /** Returns the totals of buckets that overlap the window ending at `now`. */
  totals(now: number): { successes: number; failures: number; total: number } {
    this.#evict(now);
    let successes = 0;
    let failures = 0;
    for (const bucket of this.#buckets) {
      successes += bucket.successes;
      failures += bucket.failures;
    }
    return { successes, failures, total: successes + failures };
  }

  reset(): void {
    this.#buckets.length = 0;
  }

  #current(now: number): { start: number; successes: number; failures: number } {
    this.#evict(now);
    const start = now - (now % this.#bucketMs);
    const last = this.#buckets[this.#buckets.length - 1];
    if (last !== undefined && last.start === start) {
      return last;
    }
    const bucket = { start, successes: 0, failures: 0 };
    this.#buckets.push(bucket);
    return bucket;
  }

  #evict(now: number): void {
    while (
      this.#buckets.length > 0 &&
      (this.#buckets[0]?.start ?? now) + this.#bucketMs <= now - this.#windowMs
    ) {
      this.#buckets.shift();
    }
  }
}
