/**
 * Commands and PromQL expressions that runbook steps quote. The platform's counters are
 * totals since it started, so a single read shows history, not the current traffic. The
 * commands therefore read `/metrics` twice, and the expressions take a rate.
 */

/** Seconds between the two reads of `/metrics` that a runbook command compares. */
export const READ_GAP_S = 10;

/** Window of every `rate()` in the runbook's expressions. */
export const RATE_WINDOW = '1m';

/**
 * Returns a shell command, in Markdown code, that prints the `/metrics` lines matching the
 * extended regular expression `pattern` twice, `READ_GAP_S` seconds apart. A counter whose
 * line changed between the reads rose in that time.
 */
export function twoReads(pattern: string): string {
  return (
    '`(curl -s "$GATEWAY_URL/metrics"; sleep ' +
    `${READ_GAP_S}; curl -s "$GATEWAY_URL/metrics") | grep -E '${pattern}'\``
  );
}

/** Returns `sum(rate(selector[1m]))`: the per-second rate of a counter, summed over its series. */
export function sumRate(selector: string): string {
  return `sum(rate(${selector}[${RATE_WINDOW}]))`;
}

/** Returns the PromQL ratio of the rates of two counter selectors, in Markdown code. */
export function rateShare(part: string, whole: string): string {
  return `\`${sumRate(part)} / ${sumRate(whole)}\``;
}

/** Returns the PromQL 95th percentile of a histogram over the rate window, in Markdown code. */
export function p95Of(histogram: string): string {
  return `\`histogram_quantile(0.95, sum by (le) (rate(${histogram}_bucket[${RATE_WINDOW}])))\``;
}
