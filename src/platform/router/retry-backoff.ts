/** Base wait before a candidate's first repeat when a route sets no `retryBackoffMs`. */
export const DEFAULT_RETRY_BACKOFF_MS = 100;

/** Cap on one backoff wait when a route sets no `retryBackoffMaxMs`, unless its base wait is longer. */
export const MAX_RETRY_BACKOFF_MS = 5000;

/**
 * Returns the wait before calling a candidate again, in milliseconds. The wait
 * doubles with each repeat from `baseMs`, is capped at the larger of `baseMs`
 * and `capMs`, and then keeps a random share of its upper half, so tasks that
 * failed together do not retry together.
 * @param repeat 1 for a candidate's second call in a task, 2 for its third, and so on.
 * @param random Source in [0, 1), such as a seeded generator in tests.
 * @param capMs The route's `retryBackoffMaxMs`. @defaultValue {@link MAX_RETRY_BACKOFF_MS}
 */
export function retryBackoffMs(
  baseMs: number,
  repeat: number,
  random: () => number,
  capMs = MAX_RETRY_BACKOFF_MS,
): number {
  if (baseMs <= 0) {
    return 0;
  }
  const cap = Math.max(baseMs, capMs);
  const doublings = Math.max(0, repeat - 1);
  const exponential = Math.min(cap, baseMs * 2 ** doublings);
  return exponential / 2 + (random() * exponential) / 2;
}
