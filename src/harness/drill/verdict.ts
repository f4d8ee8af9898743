import type { DrillJournal, TopologyResult, VerdictRecord } from '../report/types.js';

function steadyStateReasons(journal: DrillJournal): string[] {
  return journal.steadyState.flatMap((check) =>
    check.probes
      .filter((probe) => !probe.passed)
      .map((probe) => {
        if (probe.value === null) {
          const window = `${formatNumber(check.fromS)} s to ${formatNumber(check.toS)} s`;
          return `${check.phase}: ${probe.name} not checked: no data was collected from ${window}`;
        }
        const rule = probe.comparator === 'min' ? 'below minimum' : 'above maximum';
        const limit = `${probe.threshold} (tolerance ${probe.tolerance})`;
        return `${check.phase}: ${probe.name} ${formatNumber(probe.value, 4)} ${rule} ${limit}`;
      }),
  );
}

/** Formats a number with at most `digits` decimals and no trailing zeros. */
function formatNumber(value: number, digits = 2): string {
  return String(Number(value.toFixed(digits)));
}

/**
 * Decides the drill verdict: aborted when the drill stopped early, deviated when a
 * steady-state probe failed, a fault step failed, the harness was invalid or rollback
 * left something behind, else passed.
 */
export function decideVerdict(journal: DrillJournal, result: TopologyResult | null): VerdictRecord {
  const reasons = [
    ...(journal.aborted === null
      ? []
      : [`aborted at ${journal.aborted.atS.toFixed(2)} s: ${journal.aborted.detail}`]),
    ...steadyStateReasons(journal),
    ...journal.faults
      .filter((fault) => fault.error !== undefined)
      .map((fault) => `fault ${fault.id} failed: ${fault.error}`),
    ...(result === null || result.harness.valid
      ? []
      : [`harness invalid: ${result.harness.reasons.join('; ')}`]),
    ...(journal.cleanAfterRollback ? [] : [`rollback left: ${journal.leftovers.join(', ')}`]),
  ];
  if (journal.aborted !== null) {
    return { status: 'aborted', reasons };
  }
  return { status: reasons.length === 0 ? 'passed' : 'deviated', reasons };
}
