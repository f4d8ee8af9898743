import type { HealthLimits } from './options.js';
import type { HarnessHealth, RequestCounts } from './result.js';

export interface HealthInput {
  counts: RequestCounts;
  lagP99Ms: number;
  limits: HealthLimits;
  /** Set when the run was stopped before its schedule ended. */
  abortedEarly: boolean;
}

/** Marks a run invalid when the load generator itself fell behind or was stopped. */
export function evaluateHealth(input: HealthInput): HarnessHealth {
  const reasons: string[] = [];
  const { counts, limits } = input;
  if (input.lagP99Ms > limits.maxLagP99Ms) {
    reasons.push(
      `scheduler lag p99 ${input.lagP99Ms.toFixed(1)} ms exceeds the limit of ${limits.maxLagP99Ms} ms`,
    );
  }
  const droppedFraction = counts.scheduled === 0 ? 0 : counts.dropped / counts.scheduled;
  if (droppedFraction > limits.maxDroppedFraction) {
    reasons.push(
      `${counts.dropped} of ${counts.scheduled} sends dropped at the in-flight cap ` +
        `(${pct(droppedFraction)}), over the limit of ${pct(limits.maxDroppedFraction)}`,
    );
  }
  if (input.abortedEarly) reasons.push('run stopped by its abort signal before the schedule ended');
  return { valid: reasons.length === 0, reasons };
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}
