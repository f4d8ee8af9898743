import type { ReportIssue } from './errors.js';
import { shortJson } from './schema-check.js';
import type { BreakerJournal, BreakerRecord, BreakerStateName } from './types.js';

/** Largest difference between a recorded and a recomputed open time, one millisecond. */
const OPEN_TIME_TOLERANCE_S = 0.001;

/** Rounds seconds to whole milliseconds, the resolution of breaker times in a report. */
export function roundToMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/**
 * Returns the seconds a breaker spent open from 0 to `untilS`, rounded to milliseconds. It
 * starts in `startState` and changes by `transitions`, which are in time order.
 */
export function openSeconds(
  startState: BreakerStateName,
  transitions: readonly { atS: number; to: BreakerStateName }[],
  untilS: number,
): number {
  let total = 0;
  let state = startState;
  let since = 0;
  for (const transition of transitions) {
    if (state === 'open') total += transition.atS - since;
    state = transition.to;
    since = transition.atS;
  }
  if (state === 'open') total += Math.max(0, untilS - since);
  return roundToMs(total);
}

/** Returns the first break in a target's chain of states, or undefined when there is none. */
function chainIssue(target: BreakerRecord, untilS: number, path: string): ReportIssue | undefined {
  let state = target.startState;
  let previousS = 0;
  for (const [index, transition] of target.transitions.entries()) {
    const at = `${path}/transitions/${index}`;
    if (transition.from !== state || transition.to === transition.from) {
      return {
        instancePath: `${at}/from`,
        keyword: 'breakerChain',
        message: `the breaker was ${state} before this transition`,
        value: shortJson({ from: transition.from, to: transition.to }),
        expected: `from ${state}, and a to state other than from`,
      };
    }
    if (transition.atS < previousS || transition.atS > untilS) {
      return {
        instancePath: `${at}/atS`,
        keyword: 'breakerOrder',
        message: 'transition out of time order or after untilS',
        value: shortJson(transition.atS),
        expected: `seconds from ${previousS} to untilS ${untilS}`,
      };
    }
    state = transition.to;
    previousS = transition.atS;
  }
  if (target.endState !== state) {
    return {
      instancePath: `${path}/endState`,
      keyword: 'breakerChain',
      message: 'not the state after the last transition',
      value: shortJson(target.endState),
      expected: state,
    };
  }
  return undefined;
}

/**
 * Checks what the schema cannot state about breakers: each target's transitions chain from
 * its start state to its end state in time order within `untilS`, and its open time matches
 * them. Returns one issue per broken target.
 */
export function breakerIssues(breakers: BreakerJournal, basePath: string): ReportIssue[] {
  const issues: ReportIssue[] = [];
  for (const [index, target] of breakers.targets.entries()) {
    const path = `${basePath}/targets/${index}`;
    const broken = chainIssue(target, breakers.untilS, path);
    if (broken !== undefined) {
      issues.push(broken);
      continue;
    }
    const openS = openSeconds(target.startState, target.transitions, breakers.untilS);
    if (Math.abs(openS - target.openS) > OPEN_TIME_TOLERANCE_S) {
      issues.push({
        instancePath: `${path}/openS`,
        keyword: 'breakerOpenTime',
        message: `the transitions give ${openS} s open`,
        value: shortJson(target.openS),
        expected: 'the seconds between each open and the next transition, or untilS',
      });
    }
  }
  return issues;
}
