import type { DrillJournal, TopologyResult, VerdictRecord } from '../report/types.js';

function formatValue(value: number | null): string {
  return value === null ? 'no data' : String(Number(value.toFixed(4)));
}

function steadyStateReasons(journal: DrillJournal): string[] {
  return journal.steadyState.flatMap((check) =>
    check.probes
      .filter((probe) => !probe.passed)
      .map((probe) => {
        const rule = probe.comparator === 'min' ? 'below minimum' : 'above maximum';
        const limit = `${probe.threshold} (tolerance ${probe.tolerance})`;
        return `${check.phase}: ${probe.name} ${formatValue(probe.value)} ${rule} ${limit}`;
      }),
  );
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
