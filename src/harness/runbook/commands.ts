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
 * Returns a shell command, in Markdown code, that prints the `/metrics` samples whose line
 * starts with a match of one of the extended regular expressions `patterns`, twice,
 * `READ_GAP_S` seconds apart. A counter whose line changed between the reads rose in that
 * time. The match is anchored at the line start, so the `# HELP` and `# TYPE` lines, which
 * name every metric whether or not it has samples, are left out, and a metric without
 * samples prints nothing.
 */
export function twoReads(...patterns: [string, ...string[]]): string {
  const anchored = patterns.length === 1 ? `^${patterns[0]}` : `^(${patterns.join('|')})`;
  return (
    '`(curl -s "$GATEWAY_URL/metrics"; sleep ' +
    `${READ_GAP_S}; curl -s "$GATEWAY_URL/metrics") | grep -E '${anchored}'\``
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
