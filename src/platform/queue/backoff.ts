/** Retry delay policy shared by both drivers. */

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** Uniform random source in [0, 1). */
  random: () => number;
}

/**
 * Returns the delay before the attempt after `failedAttempt` (1-based): the
 * capped exponential `min(maxMs, baseMs * 2^(failedAttempt - 1))`, with equal
 * jitter, so the delay lies in [capped / 2, capped).
 */
export function backoffDelayMs(failedAttempt: number, policy: BackoffPolicy): number {
  const exponent = Math.max(0, failedAttempt - 1);
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const half = capped / 2;

  return Math.round(half + policy.random() * half);
}
