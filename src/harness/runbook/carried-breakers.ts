import { seconds } from '../report/format.js';
import type { BreakerRecord, BreakerStateName, FaultRecord, Report } from '../report/types.js';
import { windowOf } from './evidence.js';

/** Returns the state of `target` at `atS`: that of its last change at or before then. */
function stateAt(target: BreakerRecord, atS: number): BreakerStateName {
  const changes = target.transitions.filter((entry) => entry.atS <= atS);
  return changes.at(-1)?.to ?? target.startState;
}

/** Describes one breaker that was not closed at `fromS`, and when it closed. */
function carriedText(target: BreakerRecord, fromS: number, untilS: number): string {
  const state = stateAt(target, fromS);
  const since = target.transitions.filter((entry) => entry.atS <= fromS).at(-1)?.atS;
  const closing = target.transitions.find((entry) => entry.atS > fromS && entry.to === 'closed');
  const start = since === undefined ? 'since the load start' : `since ${seconds(since)}`;
  const end =
    closing === undefined
      ? `not closed by the drill end at ${seconds(untilS)}`
      : `closed at ${seconds(closing.atS)}`;
  return `${target.provider} \`${target.model}\` ${state} ${start}, ${end}`;
}

/**
 * Describes the breakers that were not closed when `fault` started, such as those an earlier
 * fault opened. The router sends no calls to a target whose breaker is open and only probes
 * while it is half-open, so tasks had one candidate fewer to fail over to during this fault.
 * Undefined when every recorded breaker was closed, or the report records none.
 */
export function carriedBreakersText(report: Report, fault: FaultRecord): string | undefined {
  const breakers = report.drill?.breakers;
  if (breakers === undefined || breakers === null) return undefined;
  const [fromS] = windowOf(fault);
  const carried = breakers.targets
    .filter((target) => stateAt(target, fromS) !== 'closed')
    .map((target) => carriedText(target, fromS, breakers.untilS));
  if (carried.length === 0) return undefined;
  return (
    `Breakers not closed when this fault started at ${seconds(fromS)}: ${carried.join('; ')}. ` +
    'The router sends no calls to a target whose breaker is open and only probes while it ' +
    'is half-open, so tasks had fewer candidates to fail over to.'
  );
}
