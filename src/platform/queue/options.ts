/** Options common to every queue driver, validated at construction. */
import { type Clock, systemClock } from '../clock.js';

export interface QueueOptions {
  /** Queue name; keys and metrics carry it. */
  name: string;
  /**
   * Attempts per job, the first included, before it is dead-lettered.
   * @defaultValue 3
   */
  maxAttempts?: number;
  /** @defaultValue 1000 */
  backoffBaseMs?: number;
  /** @defaultValue 30000 */
  backoffMaxMs?: number;
  /**
   * A job whose consumer stops heartbeating for this long returns to waiting.
   * @defaultValue 30000
   */
  stallIntervalMs?: number;
  /**
   * Stalls a job may survive; one more fails it with a StallLimitError.
   * @defaultValue 1
   */
  maxStalls?: number;
  /**
   * Cap on active jobs across every consumer of the queue. On BullMQ the cap lives in
   * Redis, and a handle opened without one keeps the cap another handle set.
   * @defaultValue no cap
   */
  globalConcurrency?: number;
  /**
   * How long a finished job stays: a completed or failed job is deleted at the first
   * finish of another job after this time, and a dead-lettered job leaves the dead-letter
   * list then. Its id is a duplicate until then, and is accepted again after. The counts
   * keep counting them. BullMQ takes whole seconds, so this is rounded up to one.
   * @defaultValue 86_400_000 (24 hours)
   */
  retentionMs?: number;
  /** @defaultValue systemClock */
  clock?: Clock;
  /**
   * Uniform random source in [0, 1) for backoff jitter.
   * @defaultValue Math.random
   */
  random?: () => number;
}

/** Default of {@link QueueOptions.stallIntervalMs}. */
export const DEFAULT_STALL_INTERVAL_MS = 30_000;

/** Default of {@link QueueOptions.retentionMs}: 24 hours. */
export const DEFAULT_QUEUE_RETENTION_MS = 86_400_000;

export type ResolvedQueueOptions = Required<Omit<QueueOptions, 'globalConcurrency'>> & {
  globalConcurrency: number | undefined;
};

/** Validates queue options and fills in defaults; throws RangeError or TypeError naming the option. */
export function resolveQueueOptions(options: QueueOptions): ResolvedQueueOptions {
  requireName(options.name);
  const resolved: ResolvedQueueOptions = {
    name: options.name,
    maxAttempts: integerAtLeast('maxAttempts', options.maxAttempts ?? 3, 1),
    backoffBaseMs: integerAtLeast('backoffBaseMs', options.backoffBaseMs ?? 1000, 0),
    backoffMaxMs: integerAtLeast('backoffMaxMs', options.backoffMaxMs ?? 30_000, 0),
    stallIntervalMs: integerAtLeast(
      'stallIntervalMs',
      options.stallIntervalMs ?? DEFAULT_STALL_INTERVAL_MS,
      10,
    ),
    maxStalls: integerAtLeast('maxStalls', options.maxStalls ?? 1, 0),
    retentionMs: integerAtLeast(
      'retentionMs',
      options.retentionMs ?? DEFAULT_QUEUE_RETENTION_MS,
      1000,
    ),
    globalConcurrency: optionalIntegerAtLeast('globalConcurrency', options.globalConcurrency, 1),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
  };
  if (resolved.backoffMaxMs < resolved.backoffBaseMs) {
    throw new RangeError(
      `backoffMaxMs must be >= backoffBaseMs (${resolved.backoffBaseMs}), got ${resolved.backoffMaxMs}`,
    );
  }
  return resolved;
}

function requireName(name: unknown): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(name)) {
    throw new TypeError(
      `name must be 1-100 characters of letters, digits, '_', '.' or '-', got ${JSON.stringify(name)}`,
    );
  }
}

/** Throws a RangeError unless `value` is an integer >= `min`. */
export function integerAtLeast(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${option} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function optionalIntegerAtLeast(option: string, value: unknown, min: number): number | undefined {
  return value === undefined ? undefined : integerAtLeast(option, value, min);
}

/** Validates a priority from EnqueueOptions. */
export function checkPriority(priority: number | undefined): number | undefined {
  if (priority === undefined) {
    return undefined;
  }
  if (!Number.isInteger(priority) || priority < 1 || priority > 2_097_152) {
    throw new RangeError(`priority must be an integer from 1 to 2097152, got ${String(priority)}`);
  }
  return priority;
}

/** Validates a job id passed to enqueue. */
export function checkJobId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
    throw new TypeError(`id must be a string of 1-256 characters, got ${JSON.stringify(id)}`);
  }
  return id;
}
