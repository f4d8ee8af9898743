import type { ProgressSnapshot } from './recorder.js';
import type { LoadResult } from './result.js';
import type { ThresholdVerdict } from './thresholds.js';

/** Formats a progress line: elapsed time, send rate, success rate, p95 latency and requests in flight. */
export function formatProgress(progress: ProgressSnapshot): string {
  return (
    `[load] t=${progress.elapsedSec.toFixed(0)}s rps=${progress.rps.toFixed(1)} ` +
    `success=${percent(progress.successRate)} p95=${ms(progress.p95Ms)} ` +
    `in_flight=${progress.inFlight} dropped=${progress.dropped}`
  );
}

/** Formats the run summary as lines, one `[topic]` line each. */
export function formatSummary(result: LoadResult, verdict: ThresholdVerdict): string[] {
  const { requests, latency } = result;
  const rpm = result.elapsedSec > 0 ? (requests.sent / result.elapsedSec) * 60 : 0;
  const lines = [
    `[scenario] ${result.scenario} engine=${result.engine} target=${result.target}` +
      (result.seed === undefined ? '' : ` seed=${result.seed}`),
    `[throughput] rpm=${rpm.toFixed(0)} sent=${requests.sent} dropped=${requests.dropped} ` +
      `late=${requests.late} aborted=${requests.aborted}`,
    `[success] rate=${percent(result.successRate)} succeeded=${requests.succeeded} failed=${requests.failed}`,
    `[latency] p50=${ms(latency.overall.p50)} p95=${ms(latency.overall.p95)} ` +
      `p99=${ms(latency.overall.p99)} max=${ms(latency.overall.max)}`,
  ];
  if (result.async.accepted > 0) {
    lines.push(
      `[async] accepted=${result.async.accepted} succeeded=${result.async.succeeded} ` +
        `failed=${result.async.failed} timed_out=${result.async.timedOut} ` +
        `p95=${ms(result.async.endToEnd.p95)}`,
    );
  }
  lines.push(
    result.health.valid
      ? `[harness] valid lag_p99=${ms(result.schedulerLag.p99)}${stallText(result)}`
      : `[harness] INVALID: ${result.health.reasons.join('; ')}`,
  );
  lines.push(`[slo] ${verdict.passed ? 'pass' : 'FAIL'}`);
  for (const check of verdict.checks)
    lines.push(`  ${check.passed ? 'ok  ' : 'FAIL'} ${check.reason}`);
  return lines;
}

function stallText(result: LoadResult): string {
  const stalls = result.schedulerStalls;
  if (stalls === undefined) return '';
  return ` behind=${ms(stalls.behindMs)} longest_stall=${ms(stalls.longestStallMs)}`;
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(0)}ms`;
}
