import { openSeconds, roundToMs } from '../report/breakers.js';
import type { BreakerJournal, BreakerStateName, BreakerTransitionRecord } from '../report/types.js';
import type { BreakerChangeAt, BreakerWatch } from './deps.js';

interface TargetHistory {
  provider: string;
  model: string;
  startState: BreakerStateName;
  transitions: BreakerTransitionRecord[];
}

function keyOf(target: { provider: string; model: string }): string {
  return JSON.stringify([target.provider, target.model]);
}

function compareTargets(a: TargetHistory, b: TargetHistory): number {
  return a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model);
}

/**
 * Builds the breaker journal of a drill from what `watch` saw. `startMs` is the load start
 * on the drill clock's monotonic time, and `untilS` the drill's end in seconds from it.
 * A change before the load start sets the target's start state instead of adding a
 * transition. Targets are sorted by provider, then model.
 */
export function breakerJournal(
  watch: Pick<BreakerWatch, 'initial' | 'changes'>,
  startMs: number,
  untilS: number,
): BreakerJournal {
  const histories = new Map<string, TargetHistory>();
  const historyOf = (target: { provider: string; model: string }): TargetHistory => {
    const key = keyOf(target);
    let history = histories.get(key);
    if (history === undefined) {
      history = { ...target, startState: 'closed', transitions: [] };
      histories.set(key, history);
    }
    return history;
  };
  for (const { provider, model, state } of watch.initial) {
    historyOf({ provider, model }).startState = state;
  }
  const endS = roundToMs(untilS);
  for (const change of watch.changes()) {
    addChange(historyOf(change), change, startMs, endS);
  }
  const targets = [...histories.values()].sort(compareTargets).map((history) => ({
    provider: history.provider,
    model: history.model,
    startState: history.startState,
    endState: history.transitions.at(-1)?.to ?? history.startState,
    openS: openSeconds(history.startState, history.transitions, endS),
    transitions: history.transitions,
  }));
  return { untilS: endS, targets };
}

/** Adds `change` to `history`, clamped to the window from the load start to `endS`. */
function addChange(
  history: TargetHistory,
  change: BreakerChangeAt,
  startMs: number,
  endS: number,
): void {
  const atS = roundToMs((change.atMs - startMs) / 1000);
  if (atS < 0) {
    history.startState = change.to;
    return;
  }
  history.transitions.push({
    atS: Math.min(atS, endS),
    from: change.from,
    to: change.to,
    ...(change.reason === undefined ? {} : { reason: change.reason }),
  });
}
