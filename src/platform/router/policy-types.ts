import type { ProviderErrorClass } from '../providers/errors.js';

/** One provider and model a route may call. */
export interface Candidate {
  provider: string;
  model: string;
  /** Share of first attempts; 0 makes the candidate a failover target only. */
  weight: number;
}

/** Cap on extra attempts, so retries cannot multiply upstream load. */
export interface RetryBudgetPolicy {
  windowMs: number;
  /** Fixed number of retries allowed per window. */
  maxRetriesPerWindow?: number;
  /** Retries allowed per window as a fraction of first attempts in it. */
  ratio?: number;
  /** Retries always allowed per window when `ratio` is set. @defaultValue 0 */
  minRetriesPerWindow?: number;
  /** Attempts per task, the first included. */
  maxAttemptsPerTask: number;
}

/** When a provider/model circuit opens and how it recovers. */
export interface BreakerPolicy {
  /** Failures in the window that open the circuit. */
  failureThreshold: number;
  /** Calls in the window before the circuit may open. */
  minimumRequests: number;
  windowMs: number;
  /** Time open before probing; a longer `Retry-After` extends it. */
  cooldownMs: number;
  /** Concurrent probe calls allowed while half-open. */
  halfOpenMaxProbes: number;
}

export interface RoutePolicy {
  /** Candidates in failover order. */
  candidates: Candidate[];
  /** Lowest model quality tier the route may use. */
  qualityFloor: number;
  firstTokenTimeoutMs: number;
  /** Total time budget of a task, all attempts and waits included. */
  deadlineMs: number;
  stallTimeoutMs: number;
  retryBudget: RetryBudgetPolicy;
  /**
   * Base wait before calling a candidate again in the same task. It doubles with each repeat up
   * to a cap, and a random share of its upper half is kept. @defaultValue 100
   */
  retryBackoffMs?: number;
  /** Cap on one backoff wait, unless `retryBackoffMs` is longer. @defaultValue 5000 */
  retryBackoffMaxMs?: number;
  /** Error classes that move on to the next candidate; others end the task. */
  failoverOn: ProviderErrorClass[];
  breaker: BreakerPolicy;
  /** With no usable candidate: fail at once, or wait for one until the deadline. */
  onExhausted: 'fail' | 'queue';
  /** Route whose candidates are tried after this route's own. */
  fallbackRoute?: string;
}

/** Skips a provider while its remaining quota is at or below these levels. */
export interface ThrottlePolicy {
  /** @defaultValue 0 */
  minRemainingRequests?: number;
  /** @defaultValue 0 */
  minRemainingTokens?: number;
  /** Skip length when the provider sends no reset time. @defaultValue 1000 */
  defaultResetMs?: number;
}

/** A validated route policy file. */
export interface Policy {
  version: 1;
  throttle?: ThrottlePolicy;
  routes: Record<string, RoutePolicy>;
}
