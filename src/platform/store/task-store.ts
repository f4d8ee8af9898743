import { addUsd } from '../cost/usd.js';
import type {
  DeliveryCost,
  StepCheckpoint,
  TaskError,
  TaskRecord,
  TaskResult,
  TerminalState,
} from '../task.js';

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
  /**
   * Identifier of this write. A repeat with the same id after the task ended reads as
   * stored, as when a client resends a command whose reply was lost in a reconnect.
   * The Redis store picks a random one when it is absent. @defaultValue none
   */
  completionId?: string;
}

/**
 * Result store shared by the gateway and the executors. Reads through `get`
 * are scoped to a tenant, so one tenant never reads another tenant's task.
 * A task that reached a terminal state is readable for the store's retention
 * time after that, then deleted; `accounting` still counts it.
 *
 * An idempotency key stays bound from its claim until its task is deleted: a claim
 * waits `claimTtlMs` for its task to be stored, a stored task keeps the key for up to
 * `idempotencyTtlMs` until it ends, and the key then expires with the task.
 */
export interface TaskStore {
  /**
   * Stores a new task; the record's state is normally `queued`. `idempotencyKey`, when
   * the request claimed one for this task, then stays bound for the task's lifetime.
   */
  create(record: TaskRecord, idempotencyKey?: string): Promise<void>;
  /** Returns the task when it exists and belongs to `tenantId`. */
  get(tenantId: string, id: string): Promise<TaskRecord | undefined>;
  /** Returns the task regardless of tenant; for executors, never for client reads. */
  getById(id: string): Promise<TaskRecord | undefined>;
  /** Moves a non-terminal task to `running` and counts one more delivery. */
  markRunning(id: string, startedAt: number): Promise<TaskRecord | undefined>;
  /**
   * Moves a task that is not terminal back to `queued` for another delivery. A cost
   * above 0, what the delivery that ended spent, is added to the task's `costUsd` and
   * to that delivery's entry in `deliveryCosts`, and a `busyMs` above 0 to that entry's
   * `busyMs`. Returns false and changes nothing when the task is unknown or terminal.
   * @throws RangeError when `cost.costUsd` is not a finite number >= 0, `cost.busyMs`
   *   is set but not a finite number >= 0, or `cost.delivery` is not a whole number >= 1.
   */
  requeue(id: string, cost: DeliveryCost): Promise<boolean>;
  /**
   * Stores the steps that a delivery of a running task finished, when they are more than
   * the task's checkpoint contains. Returns false and changes nothing when the task is not
   * running or its checkpoint contains as many steps.
   */
  saveCheckpoint(id: string, checkpoint: StepCheckpoint): Promise<boolean>;
  /**
   * Moves a task to a terminal state. Returns false and changes nothing when the
   * task is unknown or already terminal, so each task is counted once. A repeat of
   * the write that ended the task, with its `completionId`, returns true again.
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
  // An ended task has no delivery left to resume, so its checkpoint goes.
  const { checkpoint: _checkpoint, ...kept } = record;
  const next: TaskRecord = {
    ...kept,
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

/** Checks the cost of a delivery to add to a task and returns it. */
export function validateAddedCost(id: string, cost: DeliveryCost): DeliveryCost {
  const { delivery, costUsd } = cost;
  if (!Number.isFinite(costUsd) || costUsd < 0) {
    throw new RangeError(
      `cost added to task ${id} must be a finite number of US dollars >= 0, got ${String(costUsd)}`,
    );
  }
  const { busyMs } = cost;
  if (busyMs !== undefined && (!Number.isFinite(busyMs) || busyMs < 0)) {
    throw new RangeError(
      `busy time added to task ${id} must be a finite number of ms >= 0, got ${String(busyMs)}`,
    );
  }
  if (!Number.isSafeInteger(delivery) || delivery < 1) {
    throw new RangeError(
      `delivery of the cost added to task ${id} must be a whole number >= 1, such as the record's deliveries when that delivery started, got ${String(delivery)}`,
    );
  }
  return cost;
}

/**
 * Returns `costs` with `cost` added to its delivery's entry, in delivery order. A busy time
 * of 0 is left out of the entry.
 */
export function addDeliveryCost(
  costs: readonly DeliveryCost[] | undefined,
  cost: DeliveryCost,
): DeliveryCost[] {
  const next = (costs ?? []).map((entry) => ({ ...entry }));
  let entry = next.find((candidate) => candidate.delivery === cost.delivery);
  if (entry === undefined) {
    entry = { delivery: cost.delivery, costUsd: 0 };
    next.push(entry);
  }
  entry.costUsd = addUsd(entry.costUsd, cost.costUsd);
  if (cost.busyMs !== undefined && cost.busyMs > 0) {
    entry.busyMs = (entry.busyMs ?? 0) + cost.busyMs;
  }
  return next.sort((a, b) => a.delivery - b.delivery);
}

/** True when requeuing with `cost` adds to the task's `deliveryCosts`. */
export function addsToDeliveryCosts(cost: DeliveryCost): boolean {
  return cost.costUsd > 0 || (cost.busyMs ?? 0) > 0;
}

/** Default of the maximum time an idempotency key binds a task that has not ended: 24 hours. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 86_400_000;

/** Default time a terminal task stays readable: 24 hours. */
export const DEFAULT_RETENTION_MS = 86_400_000;

/**
 * Default time a claimed idempotency key waits for its task to be stored: 60 s. Admission
 * takes a few store calls of at most a few seconds each, so only a key whose process died
 * during admission waits this long, and a retry with it gets 409 until then.
 */
export const DEFAULT_CLAIM_TTL_MS = 60_000;

/** Lifetimes of a store's idempotency keys and terminal tasks, in ms. */
export interface StoreLifetimes {
  /** A claimed key with no stored task yet is freed after this. */
  claimTtlMs: number;
  /** A key bound to a stored task that has not ended is freed after this. */
  idempotencyTtlMs: number;
  /** A terminal task, and the key bound to it, are deleted this long after it ended. */
  retentionMs: number;
}

/** Resolves and checks a store's lifetime options. */
export function resolveLifetimes(options: Partial<StoreLifetimes>): StoreLifetimes {
  const checked = (name: keyof StoreLifetimes, value: number): number => {
    if (!Number.isInteger(value) || value <= 0) {
      throw new RangeError(`${name} must be a positive integer of ms, got ${String(value)}`);
    }
    return value;
  };
  return {
    claimTtlMs: checked('claimTtlMs', options.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS),
    idempotencyTtlMs: checked(
      'idempotencyTtlMs',
      options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS,
    ),
    retentionMs: checked('retentionMs', options.retentionMs ?? DEFAULT_RETENTION_MS),
  };
}

/**
 * Checks a checkpoint before a store writes it.
 * @throws RangeError when `steps` is not a whole number >= 1, or `toolWaitEndsAt` is set
 * but not a finite number.
 */
export function validateCheckpoint(id: string, checkpoint: StepCheckpoint): void {
  if (!Number.isSafeInteger(checkpoint.steps) || checkpoint.steps < 1) {
    throw new RangeError(
      `checkpoint steps of task ${id} must be a whole number >= 1, got ${String(checkpoint.steps)}`,
    );
  }
  const { toolWaitEndsAt } = checkpoint;
  if (toolWaitEndsAt !== undefined && !Number.isFinite(toolWaitEndsAt)) {
    throw new RangeError(
      `checkpoint toolWaitEndsAt of task ${id} must be a finite time in ms, got ${String(toolWaitEndsAt)}`,
    );
  }
}
