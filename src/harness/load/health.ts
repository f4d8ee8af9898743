import type { HarnessHealth, RequestCounts } from './result.js';
import type { StallSummary } from './stall-tracker.js';

/**
 * Limits past which a run is marked invalid because the load generator fell behind.
 *
 * Scheduler lag is the monotonic time at which the dispatcher sends (or drops) a
 * request minus its scheduled time. Latency counts from the scheduled time, as in
 * wrk2, so a late send never hides queueing. A lagging engine still sends a different
 * load shape than the scenario describes, so the run needs a validity rule. The
 * engine counts as behind while some due send waits longer than `maxLagMs`, and the
 * run is invalid when:
 * - one such stretch (a stall) lasts longer than `maxStallMs`, or
 * - the stretches add up to more than `maxBehindFraction` of the schedule, with
 *   `maxStallMs` as the floor so that short runs tolerate one caught-up pause, or
 * - more than `maxDroppedFraction` of scheduled sends were dropped at the in-flight
 *   cap (k6 reports these as `dropped_iterations`), or
 * - a send failed because the load generator's own process ran out of file descriptors or
 *   local ports (see {@link LOAD_GENERATOR_ERROR_CODES}).
 * A collector pause of tens of milliseconds after which the schedule catches up
 * therefore leaves a run valid, even when it puts the lag p99 of a short run over
 * `maxLagMs`. An engine that cannot keep up falls further behind with every send,
 * so its stall lasts until the schedule ends and breaks the first rule.
 * NOTE: 500 ms and 1% are judgement calls, not measured bounds: a 2-core drill
 * machine showed collector pauses of 5 to 29 ms.
 */
export interface HealthLimits {
  /** Lag past which a send counts as behind schedule, in milliseconds. @defaultValue 50 */
  maxLagMs: number;
  /** Longest tolerated stretch behind schedule, in milliseconds. @defaultValue 500 */
  maxStallMs: number;
  /** Tolerated time behind schedule over the scheduled duration. @defaultValue 0.01 */
  maxBehindFraction: number;
  /** Dropped sends over scheduled requests. @defaultValue 0.01 */
  maxDroppedFraction: number;
}

/** Health limits as callers pass them; absent fields take their defaults. */
export type HealthLimitsInput = Partial<HealthLimits> & {
  /** @deprecated Use `maxLagMs`; read only when `maxLagMs` is absent. */
  maxLagP99Ms?: number;
};

export const DEFAULT_HEALTH_LIMITS: Readonly<HealthLimits> = {
  maxLagMs: 50,
  maxStallMs: 500,
  maxBehindFraction: 0.01,
  maxDroppedFraction: 0.01,
};

/** Applies defaults and checks ranges, naming the option, the expected and the received value. */
export function resolveHealthLimits(input: HealthLimitsInput = {}): HealthLimits {
  const limits: HealthLimits = {
    maxLagMs: input.maxLagMs ?? input.maxLagP99Ms ?? DEFAULT_HEALTH_LIMITS.maxLagMs,
    maxStallMs: input.maxStallMs ?? DEFAULT_HEALTH_LIMITS.maxStallMs,
    maxBehindFraction: input.maxBehindFraction ?? DEFAULT_HEALTH_LIMITS.maxBehindFraction,
    maxDroppedFraction: input.maxDroppedFraction ?? DEFAULT_HEALTH_LIMITS.maxDroppedFraction,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`health.${name} must be a number >= 0, got ${String(value)}`);
    }
  }
  return limits;
}

export interface HealthInput {
  counts: RequestCounts;
  /** Lag p99 in milliseconds; judged against `maxLagMs` only when `stalls` is absent. */
  lagP99Ms: number;
  limits: HealthLimitsInput;
  /** Set when the run was stopped before its drain ended. */
  abortedEarly: boolean;
  /** Set when that stop came after the schedule ended, during the drain. */
  stoppedInDrain?: boolean;
  /** Cause of the stop, such as `interrupted by SIGINT`, appended to the invalid reason. */
  stopReason?: string;
  /** Time behind schedule; engines that do not measure it leave it out. */
  stalls?: StallSummary;
  /** Scheduled duration of the run, in milliseconds. @defaultValue 0 */
  scheduleMs?: number;
  /**
   * Sends that failed before reaching the target, by a code of
   * {@link LOAD_GENERATOR_ERROR_CODES}. @defaultValue none
   */
  loadGeneratorErrors?: Readonly<Record<string, number>>;
}

/**
 * Transport error codes that a connect fails with when the load generator's process, not the
 * target, runs out of a resource: file descriptors (EMFILE, ENFILE) or local ports
 * (EADDRNOTAVAIL). The pool opens up to `--max-in-flight` connections, so a high cap reaches
 * these limits, and the failed sends would otherwise count against the target's success rate.
 */
export const LOAD_GENERATOR_ERROR_CODES: ReadonlySet<string> = new Set([
  'EMFILE',
  'ENFILE',
  'EADDRNOTAVAIL',
]);

/** Marks a run invalid when the load generator itself fell behind or was stopped. */
export function evaluateHealth(input: HealthInput): HarnessHealth {
  const limits = resolveHealthLimits(input.limits);
  const reasons =
    input.stalls === undefined
      ? p99Reasons(input.lagP99Ms, limits)
      : stallReasons(input.stalls, input.scheduleMs ?? 0, limits);
  const droppedReason = droppedSendsReason(input.counts, limits);
  if (droppedReason !== undefined) reasons.push(droppedReason);
  const generatorReason = loadGeneratorErrorsReason(input.loadGeneratorErrors ?? {});
  if (generatorReason !== undefined) reasons.push(generatorReason);
  if (input.abortedEarly) {
    reasons.push(stoppedEarlyReason(input.stopReason, input.stoppedInDrain === true));
  }
  return { valid: reasons.length === 0, reasons };
}

function p99Reasons(lagP99Ms: number, limits: HealthLimits): string[] {
  if (lagP99Ms <= limits.maxLagMs) return [];
  return [`scheduler lag p99 ${lagP99Ms.toFixed(1)} ms exceeds the limit of ${limits.maxLagMs} ms`];
}

function stallReasons(stalls: StallSummary, scheduleMs: number, limits: HealthLimits): string[] {
  const reasons: string[] = [];
  if (stalls.longestStallMs > limits.maxStallMs) {
    reasons.push(
      `scheduler stalled: sends waited over ${limits.maxLagMs} ms past their scheduled time ` +
        `for ${stalls.longestStallMs.toFixed(0)} ms in a row, over the limit of ${limits.maxStallMs} ms`,
    );
  }
  const allowedMs = Math.max(limits.maxStallMs, limits.maxBehindFraction * scheduleMs);
  if (stalls.behindMs > allowedMs) {
    reasons.push(
      `scheduler behind schedule by over ${limits.maxLagMs} ms for ${stalls.behindMs.toFixed(0)} ms ` +
        `in ${stalls.stalls} stalls, over the limit of ${allowedMs.toFixed(0)} ms`,
    );
  }
  return reasons;
}

function droppedSendsReason(counts: RequestCounts, limits: HealthLimits): string | undefined {
  const droppedFraction = counts.scheduled === 0 ? 0 : counts.dropped / counts.scheduled;
  if (droppedFraction <= limits.maxDroppedFraction) return undefined;
  return (
    `${counts.dropped} of ${counts.scheduled} sends dropped at the in-flight cap ` +
    `(${pct(droppedFraction)}), over the limit of ${pct(limits.maxDroppedFraction)}`
  );
}

function loadGeneratorErrorsReason(errors: Readonly<Record<string, number>>): string | undefined {
  const entries = Object.entries(errors).filter(([, count]) => count > 0);
  if (entries.length === 0) return undefined;
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  const codes = entries.map(([code, count]) => `${code} ${count}`).join(', ');
  return (
    `${total} sends failed in the load generator (${codes}): its process ran out of file ` +
    'descriptors or local ports, so the target never received them; lower --max-in-flight, ' +
    'which sizes the connection pool, or raise the open-file limit (ulimit -n)'
  );
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

/**
 * Returns the invalid reason of a run stopped early, with why it was stopped when known.
 * `inDrain` is set when the schedule had ended and the stop cut the drain.
 */
export function stoppedEarlyReason(stopReason: string | undefined, inDrain = false): string {
  const stopped = inDrain
    ? `${STOPPED_EARLY} during the drain, after the schedule ended`
    : `${STOPPED_EARLY} before the schedule ended`;
  return stopReason === undefined ? stopped : `${stopped}: ${stopReason}`;
}

/** Start of the reason `stoppedEarlyReason` gives. */
const STOPPED_EARLY = 'run stopped by its abort signal';

/** Returns whether `reason` is the one `stoppedEarlyReason` gives, not a generator fault. */
export function isStoppedEarlyReason(reason: string): boolean {
  return reason.startsWith(STOPPED_EARLY);
}

/**
 * Returns the message of an aborted signal's reason when the caller gave one, such as
 * `interrupted by SIGINT`. A bare `abort()` leaves an AbortError, whose message adds nothing.
 */
export function stopReasonOf(signal: AbortSignal | undefined): string | undefined {
  const reason: unknown = signal?.reason;
  if (!(reason instanceof Error) || reason.name === 'AbortError') return undefined;
  return reason.message;
}
