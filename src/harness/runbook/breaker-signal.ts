import { count, seconds } from '../report/format.js';
import type { BreakerJournal, BreakerRecord, Report } from '../report/types.js';

/** Formats a count of occurrences, such as `1 time` or `6 times`. */
export function times(value: number): string {
  return value === 1 ? '1 time' : `${count(value)} times`;
}

/** Describes the first opening of `target` at or after `faultS`, the start of the `noun`. */
function openingText(target: BreakerRecord, faultS: number, noun: string): string {
  const opening = target.transitions.find((entry) => entry.to === 'open' && entry.atS >= faultS);
  if (opening === undefined) return `did not open during the ${noun}`;
  const reason = opening.reason === undefined ? '' : ` (${opening.reason})`;
  return `opened at ${seconds(opening.atS)}, ${seconds(opening.atS - faultS)} after the ${noun} started${reason}`;
}

/** Counts the outcomes of half-open probes: a failed probe reopens, a successful one closes. */
function probeText(target: BreakerRecord): string {
  const fromHalfOpen = target.transitions.filter((entry) => entry.from === 'half-open');
  if (!target.transitions.some((entry) => entry.to === 'half-open')) {
    return 'It never turned half-open, so no probe ran.';
  }
  const failed = fromHalfOpen.filter((entry) => entry.to === 'open').length;
  const closes = fromHalfOpen.filter((entry) => entry.to === 'closed');
  const lastClose = closes.at(-1);
  let closed = 'none closed it';
  if (lastClose !== undefined) {
    const last = closes.length === 1 ? 'at' : 'last at';
    closed = `${closes.length} closed it ${last} ${seconds(lastClose.atS)}`;
  }
  return `Half-open probes: ${failed} failed, ${closed}.`;
}

function targetText(
  target: BreakerRecord,
  breakers: BreakerJournal,
  faultS: number,
  noun: string,
): string {
  const model = `\`${target.model}\``;
  const untilS = seconds(breakers.untilS);
  if (target.transitions.length === 0) {
    return `${model}: no transition, ${target.startState} from the load start to the drill end at ${untilS}.`;
  }
  const end = `${target.endState} at the drill end (${untilS})`;
  const openings = target.transitions.filter((entry) => entry.to === 'open').length;
  return (
    `${model}: ${openingText(target, faultS, noun)}. ` +
    `Open ${times(openings)}, ${seconds(target.openS)} in total. ` +
    `${probeText(target)} ${end[0]?.toUpperCase()}${end.slice(1)}.`
  );
}

/**
 * Describes what the breakers of `provider` did in a drill, for the measured column of the
 * breaker gauge's row: when each opened after `faultS`, the start of the fault, how long it
 * stayed open, and whether half-open probes closed it. `noun` names the fault in the text.
 */
export function breakerMeasured(
  report: Report,
  provider: string,
  faultS: number,
  noun: 'outage' | 'fault' = 'outage',
): string {
  const breakers = report.drill?.breakers;
  if (breakers === undefined) {
    return 'not recorded in the report, which has schema version 1 and predates breaker records';
  }
  if (breakers === null) {
    return 'not recorded in the report: the drill ran against a platform that reports no breakers';
  }
  const targets = breakers.targets.filter((target) => target.provider === provider);
  if (targets.length === 0) {
    return `no breaker of ${provider} in the report`;
  }
  return targets.map((target) => targetText(target, breakers, faultS, noun)).join(' ');
}
