import type { DrillJournal, TopologyResult, VerdictRecord } from '../report/types.js';
import { machineLagReason, openedBreakersReason } from './abort-reasons.js';

function steadyStateReasons(journal: DrillJournal): string[] {
  return journal.steadyState.flatMap((check) => {
    const label = `${check.phase} ${formatNumber(check.fromS)}-${formatNumber(check.toS)} s`;
    // A probe not checked in this window (passed null) is no reason: it could not fail there.
    return check.probes
      .filter((probe) => probe.passed === false)
      .map((probe) => {
        if (probe.value === null) {
          return `${label}: ${probe.name} had no data in the window, which counts as a failure`;
        }
        const rule = probe.comparator === 'min' ? 'below minimum' : 'above maximum';
        const limit = `${probe.threshold} (tolerance ${probe.tolerance})`;
        return `${label}: ${probe.name} ${formatNumber(probe.value, 4)} ${rule} ${limit}`;
      });
  });
}

/** Lists the response statuses other than 2xx with their counts, such as `; responses 503 x 463`. */
function failedResponses(result: TopologyResult | null): string {
  const failed = Object.entries(result?.statusCounts ?? {})
    .filter(([status]) => !status.startsWith('2'))
    .sort(([, left], [, right]) => right - left)
    .map(([status, count]) => `${status} x ${count}`);
  return failed.length === 0 ? '' : `; responses ${failed.join(', ')}`;
}

/**
 * Returns the clause that counts the requests the drill's abort cut, such as `; 4 requests
 * in flight cut by the abort, left out of the series and the probes`, or an empty string when
 * none was cut.
 */
function cutRequests(result: TopologyResult | null): string {
  const cut = (result?.timeSeries ?? []).reduce((sum, point) => sum + (point.cutByStop ?? 0), 0);
  if (cut === 0) return '';
  const requests = cut === 1 ? '1 request' : `${cut} requests`;
  return `; ${requests} in flight cut by the abort, left out of the series and the probes`;
}

/** Formats a number with at most `digits` decimals and no trailing zeros. */
function formatNumber(value: number, digits = 2): string {
  return String(Number(value.toFixed(digits)));
}

/**
 * Decides the drill verdict, in this order. Aborted when the drill stopped early, with the
 * failed responses, the requests the abort cut, the breakers that opened and the load
 * generator's lag as reasons. Deviated
 * when a fault step failed or rollback left something behind. Inconclusive when the load
 * generator fell behind, because its numbers then do not measure the platform. Deviated
 * when a steady-state probe failed. Passed otherwise.
 */
export function decideVerdict(journal: DrillJournal, result: TopologyResult | null): VerdictRecord {
  const faultErrors = journal.faults
    .filter((fault) => fault.error !== undefined)
    .map((fault) => `fault ${fault.id} failed: ${fault.error}`);
  const leftovers = journal.cleanAfterRollback
    ? []
    : [`rollback left: ${journal.leftovers.join(', ')}`];
  // An abort stops the load before its schedule ends, which the harness check counts as
  // invalid, so an aborted run names the responses that failed instead.
  const harness =
    result === null || result.harness.valid || journal.aborted !== null
      ? []
      : [
          `harness invalid: ${result.harness.reasons.join('; ')}; rerun the drill on a quieter machine or at a lower --time-scale`,
        ];
  const reasons = [
    ...(journal.aborted === null
      ? []
      : [
          `aborted at ${journal.aborted.atS.toFixed(2)} s: ${journal.aborted.detail}` +
            `${failedResponses(result)}${cutRequests(result)}`,
          ...openedBreakersReason(journal),
          ...machineLagReason(result, journal.aborted.atS),
        ]),
    ...steadyStateReasons(journal),
    ...faultErrors,
    ...harness,
    ...leftovers,
  ];
  if (journal.aborted !== null) return { status: 'aborted', reasons };
  if (faultErrors.length > 0 || leftovers.length > 0) return { status: 'deviated', reasons };
  if (harness.length > 0) return { status: 'inconclusive', reasons };
  return { status: reasons.length === 0 ? 'passed' : 'deviated', reasons };
}
