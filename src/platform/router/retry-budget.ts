import type { Clock } from '../clock.js';
import type { RetryBudgetPolicy } from './policy-types.js';
import { SlidingWindowCounter } from './sliding-window.js';

/**
 * Caps retries (attempts after a task's first) per route over a sliding
 * window. With `ratio`, the cap is `minRetriesPerWindow + ratio * first
 * attempts`; with `maxRetriesPerWindow`, a fixed count; with both, the lower.
 */
export class RetryBudget {
  readonly #policy: RetryBudgetPolicy;
  readonly #clock: Clock;
  /** Successes count first attempts and failures count retries, reusing the two-outcome window. */
  readonly #window: SlidingWindowCounter;

  constructor(policy: RetryBudgetPolicy, clock: Clock) {
    this.#policy = policy;
    this.#clock = clock;
    this.#window = new SlidingWindowCounter(policy.windowMs);
  }

  /** Records a task's first attempt. */
  recordFirstAttempt(): void {
    this.#window.record(this.#clock.monotonic(), 'success');
  }

  /** Takes one retry from the budget; returns false when the window's allowance is spent. */
  tryRetry(): boolean {
    const now = this.#clock.monotonic();
    if (this.#window.totals(now).failures >= this.allowedRetries()) {
      return false;
    }
    this.#window.record(now, 'failure');
    return true;
  }

  /** Retries the current window allows in total. */
  allowedRetries(): number {
    const firstAttempts = this.#window.totals(this.#clock.monotonic()).successes;
    const caps: number[] = [];
    if (this.#policy.maxRetriesPerWindow !== undefined) {
      caps.push(this.#policy.maxRetriesPerWindow);
    }
    if (this.#policy.ratio !== undefined) {
      caps.push(
        Math.floor((this.#policy.minRetriesPerWindow ?? 0) + this.#policy.ratio * firstAttempts),
      );
    }
    return Math.min(...caps);
  }

  /** Retries taken in the current window. */
  retriesInWindow(): number {
    return this.#window.totals(this.#clock.monotonic()).failures;
  }
}
