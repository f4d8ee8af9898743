import type { TaskError, TaskRecord, TaskResult, TerminalState } from '../task.js';

/** Counts of task ids by state; `accepted` counts every task ever created. */
export interface TaskAccounting {
  accepted: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  dead_lettered: number;
}

/** Result of `completeAndRead`: whether this call stored the completion, and the task. */
export interface CompletedRead {
  stored: boolean;
  /** The task after the call; undefined when the id is unknown. */
  record: TaskRecord | undefined;
}

/** The outcome written when a task reaches a terminal state. */
export interface TaskCompletion {
  state: TerminalState;
  finishedAt: number;
  result?: TaskResult;
  error?: TaskError;
  costUsd?: number;
}

/**
 * Result store shared by the gateway and the executors. Reads through `get`
 * are scoped to a tenant, so one tenant never reads another tenant's task.
 * A task that reached a terminal state is readable for the store's retention
 * time after that, then deleted; `accounting` still counts it.
 */
export interface TaskStore {
  /** Stores a new task; the record's state is normally `queued`. */
  create(record: TaskRecord): Promise<void>;
  /** Returns the task when it exists and belongs to `tenantId`. */
  get(tenantId: string, id: string): Promise<TaskRecord | undefined>;
  /** Returns the task regardless of tenant; for executors, never for client reads. */
  getById(id: string): Promise<TaskRecord | undefined>;
  /** Moves a non-terminal task to `running` and counts one more delivery. */
  markRunning(id: string, startedAt: number): Promise<TaskRecord | undefined>;
  /**
   * Moves a task that is not terminal back to `queued` for another delivery, and
   * adds `costUsd`, what the failed delivery spent, to its cost. Returns false and
   * changes nothing when the task is unknown or terminal.
   * @throws RangeError when `costUsd` is not a finite number >= 0.
   */
  requeue(id: string, costUsd: number): Promise<boolean>;
  /**
   * Moves a task to a terminal state. Returns false and changes nothing when the
   * task is unknown or already terminal, so each task is counted once.
   */
  complete(id: string, completion: TaskCompletion): Promise<boolean>;
  /**
   * Like `complete`, and also returns the task as stored afterwards (the earlier
   * terminal record when it was already terminal), saving a separate read.
   */
  completeAndRead(id: string, completion: TaskCompletion): Promise<CompletedRead>;
  /**
   * Binds an idempotency key to `taskId` unless the tenant already bound it.
   * Returns the task id bound to the key: `taskId` on first use, else the earlier id.
   */
  claimIdempotencyKey(tenantId: string, key: string, taskId: string): Promise<string>;
  /** Unbinds the key when it is still bound to `taskId`, as after a rejected request. */
  releaseIdempotencyKey(tenantId: string, key: string, taskId: string): Promise<void>;
  /** Counts tasks by state. */
  accounting(): Promise<TaskAccounting>;
  close(): Promise<void>;
}

/** Zeroed accounting counters. */
export function emptyAccounting(): TaskAccounting {
  return { accepted: 0, queued: 0, running: 0, succeeded: 0, failed: 0, dead_lettered: 0 };
}

/** Applies a completion to a record, returning a new record. */
export function applyCompletion(record: TaskRecord, completion: TaskCompletion): TaskRecord {
  const next: TaskRecord = {
    ...record,
    state: completion.state,
    finishedAt: completion.finishedAt,
  };
  if (completion.result !== undefined) next.result = completion.result;
  if (completion.error !== undefined) next.error = completion.error;
  if (completion.costUsd !== undefined) next.costUsd = completion.costUsd;
  return next;
}

/** True when the state ends a task's life. */
export function isTerminal(state: TaskRecord['state']): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'dead_lettered';
}

/** Checks a cost to add to a task and returns it. */
export function validateAddedCost(id: string, costUsd: number): number {
  if (!Number.isFinite(costUsd) || costUsd < 0) {
    throw new RangeError(
      `cost added to task ${id} must be a finite number of US dollars >= 0, got ${String(costUsd)}`,
    );
  }
  return costUsd;
}

/** Default time an idempotency key stays bound: 24 hours. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 86_400_000;

/** Default time a terminal task stays readable: 24 hours, or the idempotency TTL when longer. */
export const DEFAULT_RETENTION_MS = 86_400_000;

/** Resolves the idempotency TTL and the retention options of a store, both checked. */
export function resolveLifetimes(options: { idempotencyTtlMs?: number; retentionMs?: number }): {
  idempotencyTtlMs: number;
  retentionMs: number;
} {
  const idempotencyTtlMs = validateTtl(options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS);
  const retentionMs = validateRetention(
    options.retentionMs ?? Math.max(DEFAULT_RETENTION_MS, idempotencyTtlMs),
    idempotencyTtlMs,
  );
  return { idempotencyTtlMs, retentionMs };
}

/**
 * Checks the retention of terminal tasks against the idempotency TTL and returns it.
 * A key bound when its task was created must never outlive the task, or every retry
 * with the key would find no task to replay.
 */
export function validateRetention(retentionMs: number, idempotencyTtlMs: number): number {
  if (!Number.isInteger(retentionMs) || retentionMs < idempotencyTtlMs) {
    throw new RangeError(
      `retentionMs must be an integer of at least the idempotency TTL (${idempotencyTtlMs} ms), so a retry with a bound Idempotency-Key finds its task; got ${String(retentionMs)}`,
    );
  }
  return retentionMs;
}

/**
 * Returns the store lifetimes of a platform whose finished tasks stay `retentionMs`:
 * idempotency keys stay bound for the default TTL, or for the retention when shorter.
 */
export function lifetimesForRetention(retentionMs: number): {
  idempotencyTtlMs: number;
  retentionMs: number;
} {
  return { idempotencyTtlMs: Math.min(DEFAULT_IDEMPOTENCY_TTL_MS, retentionMs), retentionMs };
}

/** Checks the idempotency TTL option and returns it. */
export function validateTtl(ttlMs: number): number {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`idempotencyTtlMs must be a positive integer, got ${String(ttlMs)}`);
  }
  return ttlMs;
}
