import { percent, usd } from '../report/format.js';
import type { ProgressSnapshot } from './recorder.js';
import type { AsyncFollowSummary, LoadResult, PlatformRun, RunCost } from './result.js';
import { endedCount } from './success-rate.js';
import type { ThresholdVerdict } from './thresholds.js';

/**
 * Formats a progress line: elapsed time, phase, send rate, success rate over ended requests
 * (as in the summary), p95 latency, and requests in flight, aborted and dropped.
 */
export function formatProgress(progress: ProgressSnapshot): string {
  const ended = endedCount(progress);
  return (
    `[load] t=${progress.elapsedSec.toFixed(0)}s ${progress.phase} rps=${progress.rps.toFixed(1)} ` +
    `success=${successText(progress.successRate, ended)} ended=${ended} ` +
    `p95=${ms(progress.p95Ms)} in_flight=${progress.inFlight} ` +
    `aborted=${progress.aborted} dropped=${progress.dropped}`
  );
}

/**
 * Formats the run summary as lines, one `[topic]` line each. `platform` adds the `[topology]`
 * and `[cost]` lines of a platform the command started.
 */
export function formatSummary(
  result: LoadResult,
  verdict: ThresholdVerdict,
  platform?: PlatformRun,
): string[] {
  const { requests, latency } = result;
  const ended = endedCount(requests);
  const lines = [
    `[scenario] ${result.scenario} engine=${result.engine} target=${result.target}` +
      (result.seed === undefined ? '' : ` seed=${result.seed}`),
  ];
  if (platform !== undefined) lines.push(`[topology] ${platform.topology}`);
  lines.push(
    throughputLine(result),
    `[success] rate=${successText(result.successRate, ended)} of ${ended} ended: ` +
      `succeeded=${requests.succeeded} failed=${requests.failed} aborted=${requests.aborted}`,
  );
  const drain = drainLine(result);
  if (drain !== undefined) lines.push(drain);
  const censored =
    requests.aborted === 0
      ? ''
      : ` (lower bounds: ${abortedWithWait(requests.aborted, 'request')})`;
  // Without an ended request the histogram gives 0 ms for every percentile, so print n/a.
  lines.push(
    latency.overall.count === 0
      ? '[latency] n/a: no request ended'
      : `[latency] p50=${ms(latency.overall.p50)} p95=${ms(latency.overall.p95)} ` +
          `p99=${ms(latency.overall.p99)} max=${ms(latency.overall.max)}${censored}`,
  );
  if (result.async.accepted > 0) lines.push(asyncLine(result.async));
  lines.push(...tenantLines(result));
  if (platform !== undefined) lines.push(costLine(platform.cost));
  lines.push(
    result.health.valid
      ? `[harness] valid lag_p99=${lagText(result)}${stallText(result)}`
      : `[harness] INVALID: ${result.health.reasons.join('; ')}`,
  );
  lines.push(`[slo] ${verdict.passed ? 'pass' : 'FAIL'}`);
  for (const check of verdict.checks)
    lines.push(`  ${check.passed ? 'ok  ' : 'FAIL'} ${check.reason}`);
  return lines;
}

/**
 * Rates per minute of the send window, so the drain after the schedule does not dilute them.
 * `late_sends` counts sends that left more than the late threshold (10 ms by default) after
 * their scheduled time. It is n/a for k6, which reports no send times, so the converter's
 * `late: 0` counts nothing.
 */
function throughputLine(result: LoadResult): string {
  const { requests, throughput } = result;
  const late = result.engine === 'k6' ? 'n/a' : String(requests.late);
  const counts = `sent=${requests.sent} dropped=${requests.dropped} late_sends=${late}`;
  if (throughput === undefined) return `[throughput] ${counts} (no send window reported)`;
  const completed =
    throughput.completedRpm === undefined
      ? 'completed_rpm=n/a'
      : `completed_rpm=${throughput.completedRpm.toFixed(0)} ` +
        `(${throughput.completedInWindow ?? 0} ended inside the window)`;
  const succeeded =
    throughput.succeededRpm === undefined
      ? 'succeeded_rpm=n/a'
      : `succeeded_rpm=${throughput.succeededRpm.toFixed(0)} ` +
        `(${throughput.succeededInWindow ?? 0} succeeded inside the window)`;
  return (
    `[throughput] per minute of the ${throughput.windowSec.toFixed(1)}s send window: ` +
    `offered_rpm=${throughput.offeredRpm.toFixed(0)} (sent) ${completed} ${succeeded} ${counts}`
  );
}

/**
 * Formats the async tasks' outcomes. Tasks the drain cut count with their wait, so their
 * p95 is then a lower bound, and it is n/a when no task ended or was cut.
 */
function asyncLine(tasks: AsyncFollowSummary): string {
  const p95 = tasks.endToEnd.count === 0 ? 'n/a' : ms(tasks.endToEnd.p95);
  const censored =
    tasks.aborted === 0 ? '' : ` (lower bound: ${abortedWithWait(tasks.aborted, 'task')})`;
  return (
    `[async] accepted=${tasks.accepted} succeeded=${tasks.succeeded} failed=${tasks.failed} ` +
    `timed_out=${tasks.timedOut} aborted=${tasks.aborted} p95=${p95}${censored}`
  );
}

/**
 * Formats one `[tenant]` line per tenant, by tenant id: its success rate and p95, and the
 * submissions the target rejected for a named limit, by limit. Results converted from k6
 * have no rejection counts, so their lines leave them out.
 */
function tenantLines(result: LoadResult): string[] {
  const tenantIds = Object.keys(result.successRateByTenant).sort();
  return tenantIds.map((tenantId) => {
    const outcomes = result.successRateByTenant[tenantId] ?? {
      finished: 0,
      succeeded: 0,
      aborted: 0,
    };
    const p95 = result.latency.byTenant[tenantId]?.p95;
    const { finished, succeeded } = outcomes;
    const rate = successText(finished === 0 ? 0 : succeeded / finished, finished);
    const line =
      `[tenant] ${tenantId} success=${rate} of ${finished} ended: ` +
      `succeeded=${succeeded} aborted=${outcomes.aborted} ` +
      `p95=${p95 === undefined ? 'n/a' : ms(p95)}`;
    if (result.rejectionsByTenant === undefined) return line;
    return `${line} ${rejectionText(result.rejectionsByTenant[tenantId] ?? {})}`;
  });
}

/** Formats rejections as `rejected=<total>` followed by the count of each limit. */
function rejectionText(byLimit: Record<string, number>): string {
  const limits = Object.keys(byLimit).sort();
  const total = limits.reduce((sum, limit) => sum + (byLimit[limit] ?? 0), 0);
  if (total === 0) return 'rejected=0';
  const counts = limits.map((limit) => `${limit}=${byLimit[limit]}`).join(' ');
  return `rejected=${total} (${counts})`;
}

/**
 * Formats the cost per task in the drill's `[cost] avg=$<usd>/task` form, with the totals.
 * The ledger shares the worker pool's bill among priced tasks and records none without one,
 * so with no priced task the pool's bill is n/a rather than $0.
 */
function costLine(cost: RunCost): string {
  const mean = cost.meanUsdPerTask === null ? 'n/a' : `${usd(cost.meanUsdPerTask)}/task`;
  const pool = cost.tasks === 0 ? 'n/a' : usd(cost.workerPoolUsd);
  const line = `[cost] avg=${mean} total=${usd(cost.totalUsd)} tasks=${cost.tasks} worker_pool=${pool}`;
  return cost.unsettledTasks === 0 ? line : `${line} unsettled=${cost.unsettledTasks}`;
}

/** Explains requests aborted when the drain ended; undefined when none were. */
function drainLine(result: LoadResult): string | undefined {
  const drain = result.drain;
  if (drain === undefined || drain.aborted === 0) return undefined;
  const single = drain.aborted === 1;
  const count = single ? '1 request' : `${drain.aborted} requests`;
  const were = single ? 'was' : 'were';
  const outcome = single ? 'counts as not succeeded' : 'count as not succeeded';
  if (drain.endedBy === 'signal') {
    return `[drain] ${count} in flight when the run was stopped ${were} aborted and ${outcome}`;
  }
  return (
    `[drain] ${count} still in flight ${drain.timeoutSec}s after the schedule ended ${were} ` +
    `cut by the drain timeout and ${outcome}; raise --drain-timeout to let ` +
    `${single ? 'it' : 'them'} finish`
  );
}

/** Words aborted requests or tasks, such as `2 aborted requests count with their wait`. */
function abortedWithWait(aborted: number, noun: 'request' | 'task'): string {
  if (aborted === 1) return `1 aborted ${noun} counts with its wait`;
  return `${aborted} aborted ${noun}s count with their wait`;
}

/**
 * Formats the p99 scheduler lag, or n/a without a measured send. A k6 run reports no lag, so
 * its converted result contains an empty summary whose 0 ms would read as sends on time.
 */
function lagText(result: LoadResult): string {
  return result.schedulerLag.count === 0 ? 'n/a' : ms(result.schedulerLag.p99);
}

function stallText(result: LoadResult): string {
  const stalls = result.schedulerStalls;
  if (stalls === undefined) return '';
  return ` behind=${ms(stalls.behindMs)} longest_stall=${ms(stalls.longestStallMs)}`;
}

function successText(fraction: number, ended: number): string {
  return ended === 0 ? 'n/a' : percent(fraction);
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(0)}ms`;
}

/**
 * Formats the `[interrupted]` line of a run a signal stopped. A run whose load had ended
 * stays valid, because the signal cut only the wait for the platform's cost.
 */
export function interruptedLine(signal: string, runValid: boolean): string {
  return runValid
    ? `[interrupted] ${signal} came after the load ended, while the cost was read; the cost ` +
        'covers the tasks that had ended by then'
    : `[interrupted] ${signal} stopped the run; the summary covers what ran until then, and ` +
        'the run is invalid';
}
