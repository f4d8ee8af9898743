import type { LoadCommandOutput } from '../load/output.js';
import type { Report, TopologyResult } from '../report/types.js';
import type { AbortedRequests } from './lower-bounds.js';

/**
 * Returns why the figures of a load output are suspect: an interrupt, aborted requests that
 * leave latency percentiles as lower bounds, a load generator that fell behind, or missing
 * costs. An empty list means none of these.
 */
export function loadCaveats(output: LoadCommandOutput, aborted: AbortedRequests): string[] {
  const { result } = output;
  const stopped = loadStoppedEarly(output);
  const caveats: string[] = [];
  const interrupt = interruptCaveat(output, stopped);
  if (interrupt !== undefined) caveats.push(interrupt);
  const bounds = lowerBoundCaveat(aborted, abortCause(result.drain?.endedBy));
  if (bounds !== undefined) caveats.push(bounds);
  const behind = fellBehindCaveat(result.health.reasons, stopped);
  if (behind !== undefined) caveats.push(behind);
  caveats.push(...unsettledCaveat(output.platform?.cost.unsettledTasks));
  return caveats;
}

/** Returns why the figures of a drill report's topology are suspect, as {@link loadCaveats} does. */
export function reportCaveats(
  report: Report,
  topology: TopologyResult,
  aborted: AbortedRequests,
): string[] {
  const abort = report.drill?.aborted ?? null;
  const caveats: string[] = [];
  if (abort !== null) {
    caveats.push(
      `the drill was aborted at ${abort.atS.toFixed(2)} s (${abort.reason}: ${abort.detail})`,
    );
  } else if (report.verdict.status === 'aborted') {
    caveats.push('the drill was aborted');
  }
  // A drill's load aborts requests at its drain timeout, or when the drill's abort stops it.
  const cause = abort === null ? 'at the drain timeout' : 'when the drill was aborted';
  const bounds = lowerBoundCaveat(aborted, cause);
  if (bounds !== undefined) caveats.push(bounds);
  const behind = fellBehindCaveat(topology.harness.reasons, abort !== null);
  if (behind !== undefined) caveats.push(behind);
  caveats.push(...unsettledCaveat(topology.cost.unsettledTasks));
  return caveats;
}

/**
 * Returns whether a stop cut the load short. The embedded engine ends its drain with
 * `signal` exactly then. k6 has no drain of its own, and its runner marks a stopped run invalid.
 * NOTE: a k6 run that was invalid anyway and got its signal after the load ended reads as
 * stopped too, so its last reason is left out.
 */
function loadStoppedEarly(output: LoadCommandOutput): boolean {
  const { drain, health } = output.result;
  if (drain !== undefined) return drain.endedBy === 'signal';
  return output.interrupted !== undefined && !health.valid;
}

function abortCause(drainEnd: 'idle' | 'timeout' | 'signal' | undefined): string {
  if (drainEnd === 'timeout') return 'at the drain timeout';
  if (drainEnd === 'signal') return 'when the run was stopped';
  return 'before their responses';
}

function interruptCaveat(output: LoadCommandOutput, stopped: boolean): string | undefined {
  const signal = output.interrupted?.signal;
  if (!stopped) {
    if (signal === undefined) return undefined;
    return (
      `${signal} came after the load ended, while the cost was read, so the cost covers ` +
      'the tasks that had ended by then'
    );
  }
  const stop =
    signal === undefined ? 'the run was stopped early' : `the run was interrupted by ${signal}`;
  const throughput = output.result.throughput;
  const scheduleS = output.settings.durationSec;
  if (output.result.drain === undefined || throughput === undefined) return stop;
  if (throughput.windowSec < scheduleS) {
    return (
      `${stop} ${throughput.windowSec.toFixed(1)} s into its ${scheduleS} s schedule, ` +
      'so its figures cover that part only'
    );
  }
  return `${stop} during the drain, after the schedule ended`;
}

/** Names the latency figures that aborted requests leave as lower bounds, and why. */
function lowerBoundCaveat(aborted: AbortedRequests, cause: string): string | undefined {
  const names = aborted.percentiles;
  if (names.length === 0) return undefined;
  const list =
    names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  const verb = names.length === 1 ? 'is a lower bound' : 'are lower bounds';
  const were = aborted.aborted === 1 ? 'was' : 'were';
  return (
    `${aborted.aborted} of ${aborted.ended} requests ${were} aborted ${cause}, and aborted ` +
    `requests count with the time they had waited, so its ${list} latency ${verb}`
  );
}

/**
 * Words the harness health reasons as a load generator that fell behind. When a stop cut the
 * run, its last reason is the stop, which evaluateHealth and the k6 runner append after the
 * others. The interrupt caveat covers that one, so it is left out here.
 */
function fellBehindCaveat(reasons: readonly string[], stopped: boolean): string | undefined {
  const behind = stopped ? reasons.slice(0, -1) : reasons;
  if (behind.length === 0) return undefined;
  return `the load generator fell behind (${behind.join('; ')})`;
}

function unsettledCaveat(unsettled: number | undefined): string[] {
  if (unsettled === undefined || unsettled === 0) return [];
  const tasks = unsettled === 1 ? 'task' : 'tasks';
  return [`the cost of ${unsettled} unsettled ${tasks} is missing`];
}
