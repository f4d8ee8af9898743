import type { PriorityClass } from '../task.js';
import type { LimitDescriptor, Rejection } from './types.js';

/** Queue gauges that backpressure reads. */
export interface QueueGauges {
  depth: number;
  /** Age of the oldest queued task in milliseconds, or 0 when the queue is empty. */
  oldestAgeMs: number;
}

export interface BackpressureOptions {
  /** Queue depth at which every class is shed (the hard limit). */
  maxQueueDepth: number;
  /** Oldest-task age at which every class is shed (the hard limit), in milliseconds. */
  maxOldestAgeMs: number;
  /**
   * Fractions of the hard limits at which `batch`, then `standard`, are shed.
   * `critical` is shed only at the hard limit (1).
   * @defaultValue { batch: 0.5, standard: 0.8 }
   */
  watermarks?: { batch: number; standard: number };
  /** @defaultValue 1 */
  minRetryAfterSeconds?: number;
  /** @defaultValue 60 */
  maxRetryAfterSeconds?: number;
}

/** The shedding limits of {@link BackpressureOptions}, every one set. */
export type BackpressureLimits = Required<
  Pick<BackpressureOptions, 'maxQueueDepth' | 'maxOldestAgeMs' | 'watermarks'>
>;

/** Shedding limits of a platform started without `backpressure`. */
export const DEFAULT_BACKPRESSURE: Readonly<BackpressureLimits> = Object.freeze({
  maxQueueDepth: 10_000,
  maxOldestAgeMs: 60_000,
  watermarks: Object.freeze({ batch: 0.5, standard: 0.8 }),
});

/**
 * Formats the limits for a status line, such as
 * `max_queue_depth=10000 max_queue_age_ms=60000 shed_watermarks=0.5,0.8`.
 */
export function formatBackpressure(limits: BackpressureLimits): string {
  const { batch, standard } = limits.watermarks;
  return (
    `max_queue_depth=${limits.maxQueueDepth} max_queue_age_ms=${limits.maxOldestAgeMs} ` +
    `shed_watermarks=${batch},${standard}`
  );
}

export type BackpressureDecision = { admitted: true } | Rejection;

/** Decides, from queue gauges alone, whether a task of a priority class is shed. */
export interface Backpressure {
  decide(priority: PriorityClass, gauges: QueueGauges): BackpressureDecision;
}

const ADMITTED: BackpressureDecision = { admitted: true };

/**
 * Builds the shedding rule. A class is shed once queue depth or oldest age
 * reaches its watermark: 429 below the hard limit, where only lower classes
 * are shed, and 503 for every class at the hard limit. The rejection names the
 * watermark of a 429 and the hard limit of a 503. Retry-After is the
 * oldest task's age in whole seconds, clamped to the min and max options, as
 * an estimate of how long the backlog takes to drain.
 */
export function createBackpressure(options: BackpressureOptions): Backpressure {
  const resolved = resolveBackpressureOptions(options);
  const thresholds: Record<PriorityClass, ShedThresholds> = {
    batch: shedThresholds(resolved, 'batch'),
    standard: shedThresholds(resolved, 'standard'),
    critical: shedThresholds(resolved, 'critical'),
  };
  return {
    decide(priority, gauges) {
      const { depth: depthLimit, oldestAgeMs: ageLimit } = thresholds[priority];
      const overDepth = gauges.depth >= depthLimit;
      const overAge = gauges.oldestAgeMs >= ageLimit;
      if (!overDepth && !overAge) {
        return ADMITTED;
      }
      const hardLimit = hardLimitReached(gauges, resolved);
      const classLimit: LimitDescriptor = overDepth
        ? { name: 'queue_depth', value: depthLimit }
        : { name: 'queue_oldest_age_ms', value: ageLimit };
      return {
        admitted: false,
        reason: 'backpressure',
        status: hardLimit === undefined ? 429 : 503,
        retryAfterSeconds: retryAfter(gauges.oldestAgeMs, resolved),
        limit: hardLimit ?? classLimit,
      };
    },
  };
}

/** Queue depth and oldest-task age from which backpressure sheds one priority class. */
export interface ShedThresholds {
  /** Queued tasks, a whole number. */
  depth: number;
  /** Age of the oldest queued task in whole milliseconds. */
  oldestAgeMs: number;
}

/**
 * Returns where backpressure starts to shed `priority`: the hard limits times the class's
 * watermark, or the hard limits themselves for `critical`. The queue contains whole tasks,
 * so the depth is rounded up, and the age is rounded up to whole milliseconds. Each
 * product is first rounded to 6 decimals, so 100 * 0.55, which is 55.00000000000001 in
 * floating point, gives 55 tasks and not 56.
 */
export function shedThresholds(
  limits: BackpressureLimits,
  priority: PriorityClass,
): ShedThresholds {
  const fraction = priority === 'critical' ? 1 : limits.watermarks[priority];
  return {
    depth: roundUp(limits.maxQueueDepth * fraction),
    oldestAgeMs: roundUp(limits.maxOldestAgeMs * fraction),
  };
}

function roundUp(value: number): number {
  return Math.ceil(Number(value.toFixed(6)));
}

/**
 * Returns the hard limit the gauges reached, queue depth first, or undefined below both.
 * A 503 names this limit, not the lower watermark of the request's class.
 */
function hardLimitReached(
  gauges: QueueGauges,
  options: ResolvedOptions,
): LimitDescriptor | undefined {
  if (gauges.depth >= options.maxQueueDepth) {
    return { name: 'queue_depth', value: options.maxQueueDepth };
  }
  if (gauges.oldestAgeMs >= options.maxOldestAgeMs) {
    return { name: 'queue_oldest_age_ms', value: options.maxOldestAgeMs };
  }
  return undefined;
}

/** Backpressure options with every default filled in. */
export type ResolvedBackpressure = Required<BackpressureOptions>;
type ResolvedOptions = ResolvedBackpressure;

function retryAfter(oldestAgeMs: number, options: ResolvedOptions): number {
  const seconds = Math.ceil(Math.max(0, oldestAgeMs) / 1000);
  return Math.min(options.maxRetryAfterSeconds, Math.max(options.minRetryAfterSeconds, seconds));
}

/**
 * Fills in the defaults of `options` and checks them.
 * @throws RangeError naming the option that is out of range.
 */
export function resolveBackpressureOptions(options: BackpressureOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    watermarks: { ...DEFAULT_BACKPRESSURE.watermarks },
    minRetryAfterSeconds: 1,
    maxRetryAfterSeconds: 60,
    ...options,
  };
  requirePositive('maxQueueDepth', resolved.maxQueueDepth);
  requirePositive('maxOldestAgeMs', resolved.maxOldestAgeMs);
  requireFraction('watermarks.batch', resolved.watermarks.batch);
  requireFraction('watermarks.standard', resolved.watermarks.standard);
  if (resolved.watermarks.batch > resolved.watermarks.standard) {
    throw new RangeError(
      `watermarks.batch must be <= watermarks.standard (${resolved.watermarks.standard}), got ${resolved.watermarks.batch}`,
    );
  }
  requirePositive('minRetryAfterSeconds', resolved.minRetryAfterSeconds);
  if (resolved.maxRetryAfterSeconds < resolved.minRetryAfterSeconds) {
    throw new RangeError(
      `maxRetryAfterSeconds must be >= minRetryAfterSeconds (${resolved.minRetryAfterSeconds}), got ${resolved.maxRetryAfterSeconds}`,
    );
  }
  return resolved;
}

function requirePositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  }
}

function requireFraction(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new RangeError(`${name} must be in (0, 1], got ${String(value)}`);
  }
}
