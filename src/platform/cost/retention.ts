/**
 * Retention of a cost ledger's per-task records. Records are grouped in time buckets of
 * `retentionMs / COST_BUCKETS_PER_RETENTION` (rounded up), and a whole bucket expires once
 * its newest possible record is `retentionMs` old. So a record stays for more than
 * `retentionMs` and at most one bucket width longer, and a ledger drops its records a
 * bucket at a time instead of one by one.
 */

/**
 * Default of a ledger's `retentionMs`: 24 hours, as the queue's and the task store's. A
 * drill or load run lasts minutes, so its cost summary reads every record it made.
 */
export const DEFAULT_COST_RETENTION_MS = 86_400_000;

/** Buckets per retention period; more buckets mean less overshoot and more keys to read. */
export const COST_BUCKETS_PER_RETENTION = 8;

/** The time buckets whose records are kept at one moment. */
export interface LiveBuckets {
  /** Width of every bucket, in ms. */
  widthMs: number;
  /** Index of the bucket that takes the records made now: `floor(now / widthMs)`. */
  current: number;
  /** Index of the oldest bucket still kept; every bucket before it has expired. */
  oldest: number;
}

/**
 * Checks a ledger's `retentionMs` and returns it.
 * @throws RangeError naming the value unless it is a positive integer of ms.
 */
export function checkCostRetentionMs(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`retentionMs must be a positive integer of ms, got ${String(value)}`);
  }
  return value;
}

/** Returns the width of a ledger's time buckets in ms, at least 1. */
export function bucketWidthMs(retentionMs: number): number {
  return Math.ceil(retentionMs / COST_BUCKETS_PER_RETENTION);
}

/**
 * Returns the buckets kept at `nowMs`. Bucket `b` contains the records made in
 * `[b * widthMs, (b + 1) * widthMs)` and is kept while `nowMs < (b + 1) * widthMs +
 * retentionMs`, so that every record in it is kept for at least `retentionMs`.
 */
export function liveBuckets(retentionMs: number, nowMs: number): LiveBuckets {
  const widthMs = bucketWidthMs(retentionMs);
  return {
    widthMs,
    current: Math.floor(nowMs / widthMs),
    oldest: Math.floor((nowMs - retentionMs) / widthMs),
  };
}

/** Returns the indexes of the live buckets, oldest first. */
export function liveBucketIndexes(buckets: LiveBuckets): number[] {
  const indexes: number[] = [];
  for (let index = buckets.oldest; index <= buckets.current; index += 1) indexes.push(index);
  return indexes;
}
