/**
 * Largest delay, in milliseconds, that Node timers honour: `setTimeout` replaces any longer
 * delay with 1 ms, so every millisecond field that feeds a timer is capped here.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** Largest `Retry-After` the mocks send, in seconds: one day. */
export const MAX_RETRY_AFTER_SECONDS = 86_400;

/**
 * Sleeps `ms` milliseconds in steps of at most {@link MAX_TIMER_MS}, so sums of capped
 * fields (such as latency plus jitter) still wait their full time.
 */
export async function sleepInSteps(
  sleep: (ms: number) => Promise<void>,
  ms: number,
): Promise<void> {
  let remaining = ms;
  do {
    const step = Math.min(Math.max(0, remaining), MAX_TIMER_MS);
    await sleep(step);
    remaining -= step;
  } while (remaining > 0);
}
