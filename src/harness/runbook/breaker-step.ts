/**
 * The provider outage's first operator step and its breaker recovery check. Both follow the
 * drill's breaker records: a breaker that never opened leaves `scalegate_breaker_state` at 0
 * through the outage, so on-call then watches the failover counter instead.
 */
import { pointsIn } from '../drill/measures.js';
import { seconds } from '../report/format.js';
import type { BreakerJournal, BreakerRecord, Report, SeriesPoint } from '../report/types.js';
import {
  breakerRecoveryText,
  journalOf,
  openingList,
  openingsDuring,
  type Outage,
} from './breaker-outage.js';
import { times } from './breaker-signal.js';
import { twoReads } from './commands.js';
import { afterFailoverText, windowFailoverText } from './failover-rise.js';

/** Returns the state of a breaker at `atS`, from its start state and its transitions up to then. */
function stateAt(target: BreakerRecord, atS: number): BreakerRecord['startState'] {
  let state = target.startState;
  for (const transition of target.transitions) {
    if (transition.atS > atS) break;
    state = transition.to;
  }
  return state;
}

/** Lists the failed provider's breakers that were not closed when the outage started. */
function notClosedAtStart(journal: BreakerJournal, outage: Outage): string[] {
  return journal.targets
    .filter((target) => target.provider === outage.primary)
    .flatMap((target) => {
      const state = stateAt(target, outage.fromS);
      return state === 'closed' ? [] : [`\`${target.model}\` was ${state}`];
    });
}

/** Returns the one-read command of the failed provider's breaker gauge, in Markdown code. */
function gaugeRead(primary: string): string {
  return `\`curl -s "$GATEWAY_URL/metrics" | grep 'scalegate_breaker_state{provider="${primary}"'\``;
}

/** Returns the two-read command of the failovers away from the failed provider. */
function failoverReads(primary: string): string {
  return twoReads(`scalegate_failover_activations_total\\{from_provider="${primary}"`);
}

/** Returns whether every breaker of the failed provider stayed closed through the outage. */
function stayedClosed(journal: BreakerJournal, outage: Outage): boolean {
  return (
    openingsDuring(journal, outage).length === 0 && notClosedAtStart(journal, outage).length === 0
  );
}

/**
 * Words step 1 of a provider outage from the drill's breaker records. When a breaker of the
 * failed provider opened, the step reads the breaker gauge and cites when it opened. When
 * none opened, the gauge stays 0, so the step reads the failover counter from that provider
 * and cites its rise over the fault window, from that provider when the series splits
 * failovers by provider pair. `points` are the series seconds of that window,
 * and `activations` the report's failovers from the failed provider to the fallback.
 */
export function breakerStep(
  report: Report,
  outage: Outage,
  activations: number,
  points: readonly SeriesPoint[],
): string {
  const { primary, fallback } = outage;
  const confirm = `Confirm the breaker of ${primary} is open (2) or half-open (1): ${gaugeRead(primary)}.`;
  const failoverLine =
    `a \`to_provider="${fallback}"\` line that changes between the two reads of ` +
    failoverReads(primary);
  const counted = `the router failed over from ${primary} to ${fallback} ${times(activations)}`;
  const journal = journalOf(report);
  if (journal === undefined) {
    return (
      `${confirm} The report records no breakers, so the drill did not show whether it opens ` +
      `in this ${outage.noun}. While it reads 0 (closed), requests still call ${primary} first, and ` +
      `${failoverLine} shows them failing over. In the drill, ${counted}.`
    );
  }
  const openings = openingsDuring(journal, outage);
  if (openings.length > 0) {
    return (
      `${confirm} In the drill, the ${outage.noun} started at ${seconds(outage.fromS)} and the ` +
      `breaker opened for ${openingList(openings)}.`
    );
  }
  const earlier = notClosedAtStart(journal, outage);
  if (earlier.length > 0) {
    return `${confirm} In the drill, when the ${outage.noun} started at ${seconds(outage.fromS)}, ${earlier.join(' and ')}.`;
  }
  return (
    `Confirm that requests fail over from ${primary}: ${failoverLine} is the ${outage.noun} in ` +
    `progress. In the drill, no breaker of ${primary} opened during the ${outage.noun}, so ` +
    `\`scalegate_breaker_state{provider="${primary}"}\` stayed 0 (closed). Each request ` +
    `called ${primary} first and failed over after that call failed: ${counted}. ` +
    windowFailoverText(report, points, outage)
  );
}

/**
 * Words the breaker check of a provider outage's recovery. When no breaker of the failed
 * provider opened in the drill, step 1 read the failover counter, so the check does too and
 * cites its rise in the series from the fault window's end to the drill's last reading.
 */
export function breakerRecoveryCheck(
  report: Report,
  outage: Outage,
  series: readonly SeriesPoint[],
): string {
  const { primary, fallback } = outage;
  const journal = journalOf(report);
  if (journal === undefined || !stayedClosed(journal, outage)) {
    return (
      `\`scalegate_breaker_state\` for ${primary} is back at 0 (closed) in step 1's command. ` +
      `It turns half-open (1) once the route's \`breaker.cooldownMs\` in the policy has ` +
      `passed, or a longer \`Retry-After\` of ${primary}, and closed after the next call to ` +
      `${primary} succeeds. ${breakerRecoveryText(report, outage)}`
    );
  }
  const endS = Math.ceil(outage.toS);
  const after = pointsIn(series, endS, Number.POSITIVE_INFINITY);
  const measured =
    after.length === 0
      ? "The report's series ends with the fault window, so the drill did not measure this."
      : afterFailoverText(report, after, primary, endS);
  return (
    `Step 1's two reads print the same \`to_provider="${fallback}"\` line: calls to ` +
    `${primary} succeed again, so none fails over. ${measured}`
  );
}
