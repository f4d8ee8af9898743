import type { RequestCounts } from './result.js';

type EndCounts = Pick<RequestCounts, 'succeeded' | 'failed' | 'aborted'>;

/** Requests that ended: succeeded, failed, or aborted at the drain deadline. */
export function endedCount(counts: EndCounts): number {
  return counts.succeeded + counts.failed + counts.aborted;
}

/**
 * Succeeded over ended requests, from 0 to 1; 0 when none ended. An aborted request
 * counts as not succeeded, in the progress line, the summary and the objectives alike.
 */
export function successRateOf(counts: EndCounts): number {
  const ended = endedCount(counts);
  return ended === 0 ? 0 : counts.succeeded / ended;
}
