import { count, seconds } from '../report/format.js';
import type { BreakerJournal, BreakerRecord, Report } from '../report/types.js';
import { times } from './breaker-signal.js';

/** A provider outage as the runbook reads it: the provider and the fault's applied window. */
export interface Outage {
  primary: string;
  fallback: string;
  /** Seconds from the load start when the fault was applied and removed. */
  fromS: number;
  toS: number;
  /** Word for the fault in sentences: `outage` when the provider fails every call, else `fault`. */
  noun: 'outage' | 'fault';
}

/** A breaker of the failed provider that opened while the fault was active. */
export interface Opening {
  target: BreakerRecord;
  atS: number;
}

/**
 * Returns the report's breaker journal, or undefined when the report has none: schema
 * version 1 predates breaker records, and null means the platform reports no breakers.
 */
export function journalOf(report: Report): BreakerJournal | undefined {
  return report.drill?.breakers ?? undefined;
}

/** Lists each breaker of the failed provider that opened during the outage, at its first opening. */
export function openingsDuring(journal: BreakerJournal, outage: Outage): Opening[] {
  const openings: Opening[] = [];
  for (const target of journal.targets) {
    if (target.provider !== outage.primary) continue;
    const first = target.transitions.find(
      (entry) => entry.to === 'open' && entry.atS >= outage.fromS && entry.atS <= outage.toS,
    );
    if (first !== undefined) openings.push({ target, atS: first.atS });
  }
  return openings;
}

/** Counts the half-open probes of `openings` that failed, reopening the breaker, in the outage. */
function failedProbes(openings: readonly Opening[], outage: Outage): number {
  return openings
    .flatMap((opening) => opening.target.transitions)
    .filter(
      (entry) =>
        entry.from === 'half-open' &&
        entry.to === 'open' &&
        entry.atS >= outage.fromS &&
        entry.atS <= outage.toS,
    ).length;
}

/** Lists openings as `` `gpt-4o` at 20.07 s ``, for the runbook's breaker lines. */
export function openingList(openings: readonly Opening[]): string {
  return openings
    .map((opening) => `\`${opening.target.model}\` at ${seconds(opening.atS)}`)
    .join(', ');
}

/**
 * Describes what the failover count of an outage covers. The router counts a failover only
 * after a call to the failed provider failed, so the text follows the report's breakers:
 * while one is open, requests skip the provider and add nothing to the count.
 */
export function failoverCountText(report: Report, outage: Outage, activations: number): string {
  const { primary, fallback } = outage;
  const counted = `The router failed over from ${primary} to ${fallback} ${times(activations)}.`;
  const journal = journalOf(report);
  if (journal === undefined) {
    return (
      `${counted} The count covers requests whose ${primary} attempt failed. The report ` +
      `records no breakers, so it does not show whether the breaker of ${primary} opened: ` +
      `while a breaker is open, requests go to ${fallback} directly and are not counted.`
    );
  }
  const openings = openingsDuring(journal, outage);
  if (openings.length === 0) {
    return (
      `${counted} No breaker of ${primary} opened during the ${outage.noun}, so requests kept ` +
      `calling ${primary} first, and each failover is a request whose ${primary} attempt ` +
      `failed: \`scalegate_failover_activations_total\` kept rising while the ${outage.noun} lasted.`
    );
  }
  const probes = failedProbes(openings, outage);
  return (
    `${counted} The count covers requests whose ${primary} attempt failed: before the ` +
    `breaker opened (${openingList(openings)}) and at each failed half-open probe ` +
    `(${count(probes)} in the drill). While the breaker was open, requests went to ` +
    `${fallback} directly and are not counted, so \`scalegate_failover_activations_total\` ` +
    `rises only at failed probes while the ${outage.noun} lasts and is no detection signal.`
  );
}

/** Describes when one breaker that opened in the outage closed, relative to the fault's end. */
function closingText(opening: Opening, journal: BreakerJournal, outage: Outage): string {
  const model = `\`${opening.target.model}\``;
  const closed = opening.target.transitions
    .filter((entry) => entry.to === 'closed' && entry.atS >= opening.atS)
    .at(-1);
  if (opening.target.endState !== 'closed' || closed === undefined) {
    return (
      `${model} was still ${opening.target.endState} at the drill end ` +
      `(${seconds(journal.untilS)}), so the drill did not show it closing`
    );
  }
  const offset = closed.atS - outage.toS;
  const relation = offset >= 0 ? 'after' : 'before';
  return `${model} closed at ${seconds(closed.atS)}, ${seconds(Math.abs(offset))} ${relation} the fault ended`;
}

/** Describes when the failed provider's breakers closed in the drill, for the recovery check. */
export function breakerRecoveryText(report: Report, outage: Outage): string {
  const journal = journalOf(report);
  if (journal === undefined) {
    return 'The report records no breakers, so it gives no closing time.';
  }
  const openings = openingsDuring(journal, outage);
  if (openings.length === 0) {
    return `In the drill, no breaker of ${outage.primary} opened during the ${outage.noun}, so the drill did not exercise this check.`;
  }
  const closings = openings.map((opening) => closingText(opening, journal, outage));
  return `In the drill, ${closings.join('; ')}.`;
}
