/** Time the dispatcher spent behind schedule during a run. */
export interface StallSummary {
  /** Lag above which a send counts as behind schedule, in milliseconds. */
  lagLimitMs: number;
  /** Total time during which some due send had waited longer than the lag limit, in milliseconds. */
  behindMs: number;
  /** Maximum continuous stretch of such time, in milliseconds. */
  longestStallMs: number;
  /** Number of separate stretches. */
  stalls: number;
}

/**
 * Merges the late part of each send into stalls. A send whose lag is over the limit
 * adds the interval from `scheduled + limit` to its dispatch time, and overlapping
 * intervals form one stall. Sends must be recorded in schedule order, so that both
 * interval ends are non-decreasing.
 */
export class StallTracker {
  #stallStart = Number.NEGATIVE_INFINITY;
  #stallEnd = Number.NEGATIVE_INFINITY;
  #behindMs = 0;
  #longestStallMs = 0;
  #stalls = 0;

  constructor(readonly lagLimitMs: number) {}

  /** Records one dispatched (sent or dropped) request by its dispatch time and lag, in milliseconds. */
  record(dispatchedAtMs: number, lagMs: number): void {
    if (lagMs <= this.lagLimitMs) return;
    const start = dispatchedAtMs - lagMs + this.lagLimitMs;
    if (start > this.#stallEnd) {
      this.#stalls += 1;
      this.#stallStart = start;
      this.#stallEnd = start;
    }
    if (dispatchedAtMs > this.#stallEnd) {
      this.#behindMs += dispatchedAtMs - Math.max(start, this.#stallEnd);
      this.#stallEnd = dispatchedAtMs;
    }
    this.#longestStallMs = Math.max(this.#longestStallMs, this.#stallEnd - this.#stallStart);
  }

  summary(): StallSummary {
    return {
      lagLimitMs: this.lagLimitMs,
      behindMs: this.#behindMs,
      longestStallMs: this.#longestStallMs,
      stalls: this.#stalls,
    };
  }
}
