/**
 * Completed and succeeded throughput: requests that ended, or succeeded, inside the send
 * window, per minute of it. Load outputs record both as `throughput.completedRpm` and
 * `throughput.succeededRpm`, and k6 outputs record neither. Older load outputs and drill
 * reports count successes per second of their series but not per window, so for them this
 * sums the seconds that cover the window. That sum is exact only when no request ended in
 * those seconds after the window closed, which the completed count shows.
 */
import type { LoadResult } from '../load/result.js';
import type { Report, TopologyResult } from '../report/types.js';

/** Completed or succeeded requests per minute of the send window, or why a file cannot give them. */
export type WindowThroughput = { rpm: number } | { rpm: null; reason: string };

/** Requests that ended inside a send window, and those that succeeded among them. */
interface WindowCounts {
  completed: number;
  succeeded: number;
}

/** Relative tolerance when a completed count is recovered from a rate, for float rounding. */
const COUNT_TOLERANCE = 1e-6;

/**
 * Sums the series seconds that cover a send window of `windowS` seconds from the load start:
 * seconds 0 to the window's end rounded up.
 */
function countsCovering<T>(
  points: readonly T[],
  windowS: number,
  second: (point: T) => number,
  counts: (point: T) => WindowCounts,
): WindowCounts {
  const end = Math.ceil(windowS);
  const sums: WindowCounts = { completed: 0, succeeded: 0 };
  for (const point of points) {
    if (second(point) >= end) continue;
    const { completed, succeeded } = counts(point);
    sums.completed += completed;
    sums.succeeded += succeeded;
  }
  return sums;
}

function perMinute(count: number, windowS: number): number {
  return windowS > 0 ? (count * 60) / windowS : 0;
}

function mismatch(covered: WindowCounts, windowS: number, inWindow: number): WindowThroughput {
  return {
    rpm: null,
    reason:
      `its series counts ${Math.round(covered.completed)} requests that ended in the ${Math.ceil(windowS)} s ` +
      `covering the ${windowS} s send window, but ${Math.round(inWindow)} ended inside it, so ` +
      'the series does not show which successes ended inside it',
  };
}

const NO_SEND_WINDOW = 'the output records no send window';

/** Returns why a load result has no count of requests that ended inside its send window. */
function noWindowCount(result: LoadResult): string {
  const engine =
    result.engine === 'k6' ? 'k6 does not time when requests end, so the output' : 'the output';
  return `${engine} has no count of requests that ended inside the send window`;
}

/**
 * Returns the completed throughput of a load result, `throughput.completedRpm`, or the reason
 * it has none. The offered rate is no stand-in, because a target that falls behind completes
 * fewer requests than it is sent.
 */
export function completedThroughputOfLoad(result: LoadResult): WindowThroughput {
  const { throughput } = result;
  if (throughput === undefined) return { rpm: null, reason: NO_SEND_WINDOW };
  if (throughput.completedRpm !== undefined) return { rpm: throughput.completedRpm };
  return { rpm: null, reason: noWindowCount(result) };
}

/**
 * Returns the completed throughput of a drill report's topology, or the reason it has none.
 * A k6 drill records its offered rate as `throughputRpm`, because k6 does not time when
 * requests end.
 */
export function completedThroughputOfReport(
  report: Report,
  topology: TopologyResult,
): WindowThroughput {
  if (report.environment.engine === 'k6') {
    return {
      rpm: null,
      reason: 'k6 does not time when requests end, so the report records the offered rate only',
    };
  }
  return { rpm: topology.throughputRpm };
}

/**
 * Returns the succeeded throughput of a load result, or the reason it has none. The recorded
 * `succeededRpm` wins, and outputs written before it was recorded fall back to the series.
 * A k6 result does not time when requests end. A series that counts more completions in the
 * seconds covering the window than the window contains cannot place the successes.
 */
export function succeededThroughputOfLoad(result: LoadResult): WindowThroughput {
  const { throughput } = result;
  if (throughput === undefined) {
    return { rpm: null, reason: NO_SEND_WINDOW };
  }
  if (throughput.succeededRpm !== undefined) return { rpm: throughput.succeededRpm };
  const inWindow = throughput.completedInWindow;
  if (inWindow === undefined) return { rpm: null, reason: noWindowCount(result) };
  const covered = countsCovering(
    result.timeSeries,
    throughput.windowSec,
    (point) => point.second,
    (point) => ({ completed: point.successes + point.failures, succeeded: point.successes }),
  );
  if (covered.completed !== inWindow) return mismatch(covered, throughput.windowSec, inWindow);
  return { rpm: perMinute(covered.succeeded, throughput.windowSec) };
}

/**
 * Returns the succeeded throughput of a drill report's topology over its send window
 * (`reportSendWindow`), or the reason it has none. The series counts completed requests as
 * `throughputRpm / 60`, which checks the window against the completed rate.
 */
export function succeededThroughputOfReport(
  report: Report,
  topology: TopologyResult,
): WindowThroughput {
  if (report.environment.engine === 'k6') {
    return {
      rpm: null,
      reason: 'k6 does not time when requests end, so the report has no completed count to check',
    };
  }
  const windowS = reportSendWindow(report, topology);
  if (typeof windowS !== 'number') return windowS;
  const covered = countsCovering(
    topology.timeSeries,
    windowS,
    (point) => point.t,
    (point) => ({ completed: point.throughputRpm / 60, succeeded: point.successes }),
  );
  const inWindow = (topology.throughputRpm * windowS) / 60;
  const tolerance = COUNT_TOLERANCE * Math.max(1, inWindow);
  if (Math.abs(covered.completed - inWindow) > tolerance) {
    return mismatch(covered, windowS, inWindow);
  }
  return { rpm: perMinute(covered.succeeded, windowS) };
}

/**
 * Returns the send window of a drill report's topology in seconds, or why it has none: the
 * topology's `sendWindowS` where recorded (schema version 5 on), and otherwise the scenario's
 * duration, which only a drill that was not aborted ran for.
 */
export function reportSendWindow(
  report: Report,
  topology: TopologyResult,
): number | { rpm: null; reason: string } {
  const aborted = report.verdict.status === 'aborted' || (report.drill?.aborted ?? null) !== null;
  if (aborted && topology.sendWindowS === undefined) {
    return {
      rpm: null,
      reason: 'the drill was aborted, and the report does not record when its send window closed',
    };
  }
  return topology.sendWindowS ?? report.scenario.durationS;
}
