import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { addUsd } from '../cost/usd.js';
import type { DeliveryCost, StepCheckpoint, TaskRecord } from '../task.js';
import type { CompletedRead, TaskAccounting, TaskCompletion, TaskStore } from './task-store.js';
import {
  addDeliveryCost,
  addsToDeliveryCosts,
  applyCompletion,
  emptyAccounting,
  isTerminal,
  resolveLifetimes,
  type StoreLifetimes,
  validateAddedCost,
  validateCheckpoint,
} from './task-store.js';

export interface MemoryTaskStoreOptions {
  /** Maximum time a key binds a task that has not ended. @defaultValue 86_400_000 (24 hours) */
  idempotencyTtlMs?: number;
  /** Time a claimed key waits for its task to be stored. @defaultValue 60_000 */
  claimTtlMs?: number;
  /**
   * How long a task, and the idempotency key bound to it, stay after the task reaches a
   * terminal state. @defaultValue 86_400_000 (24 hours)
   */
  retentionMs?: number;
  /** @defaultValue systemClock */
  clock?: Clock;
}

/**
 * Deep copy of JSON-like data (plain objects, arrays, primitives), so callers
 * never hold a reference into a stored record. About six times cheaper than
 * `structuredClone` for a task record.
 */
function copyPlainData<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyPlainData) as T;
  const source = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  // Stored records are plain objects, so for...in visits only their own keys.
  for (const key in source) copy[key] = copyPlainData(source[key]);
  return copy as T;
}

/** In-process task store for the embedded platform and for tests. */
export class MemoryTaskStore implements TaskStore {
  readonly #records = new Map<string, TaskRecord>();
  readonly #idempotency = new Map<string, { taskId: string; expiresAt: number }>();
  readonly #counts: TaskAccounting = emptyAccounting();
  readonly #lifetimes: StoreLifetimes;
  /** The idempotency key slot bound to each task that has one. */
  readonly #slotOfTask = new Map<string, string>();
  /** The `completionId` of the write that ended each terminal task that was given one. */
  readonly #completionIds = new Map<string, string>();
  readonly #clock: Clock;
  readonly #taskExpiries = new ExpiryLine();
  /** Keys in the order they expire, one line per lifetime, so each line is in time order. */
  readonly #claimExpiries = new ExpiryLine();
  readonly #boundExpiries = new ExpiryLine();

  constructor(options: MemoryTaskStoreOptions = {}) {
    this.#lifetimes = resolveLifetimes(options);
    this.#clock = options.clock ?? systemClock;
  }

  async create(record: TaskRecord, idempotencyKey?: string): Promise<void> {
    this.#sweep();
    if (this.#records.has(record.id)) throw new RangeError(`task ${record.id} already exists`);
    this.#records.set(record.id, copyPlainData(record));
    this.#counts.accepted += 1;
    this.#counts[record.state] += 1;
    const terminal = isTerminal(record.state);
    if (idempotencyKey !== undefined) {
      const slot = slotOf(record.tenantId, idempotencyKey);
      const binding = this.#idempotency.get(slot);
      if (binding?.taskId === record.id) {
        this.#slotOfTask.set(record.id, slot);
        if (!terminal) {
          binding.expiresAt = this.#clock.now() + this.#lifetimes.idempotencyTtlMs;
          this.#boundExpiries.add(binding.expiresAt, slot);
        }
      }
    }
    if (terminal) this.#expireTask(record.id);
  }

  async get(tenantId: string, id: string): Promise<TaskRecord | undefined> {
    this.#sweep();
    const record = this.#records.get(id);
    if (record === undefined || record.tenantId !== tenantId) return undefined;
    return copyPlainData(record);
  }

  async getById(id: string): Promise<TaskRecord | undefined> {
    this.#sweep();
    const record = this.#records.get(id);
    return record === undefined ? undefined : copyPlainData(record);
  }

  async markRunning(id: string, startedAt: number): Promise<TaskRecord | undefined> {
    this.#sweep();
    const record = this.#records.get(id);
    if (record === undefined || isTerminal(record.state)) return undefined;
    this.#counts[record.state] -= 1;
    const next: TaskRecord = {
      ...record,
      state: 'running',
      startedAt,
      deliveries: record.deliveries + 1,
    };
    this.#records.set(id, next);
    this.#counts.running += 1;
    return copyPlainData(next);
  }

  async requeue(id: string, cost: DeliveryCost): Promise<boolean> {
    validateAddedCost(id, cost);
    this.#sweep();
    const record = this.#records.get(id);
    if (record === undefined || isTerminal(record.state)) return false;
    const next: TaskRecord = { ...record, state: 'queued' };
    if (cost.costUsd > 0) next.costUsd = addUsd(record.costUsd ?? 0, cost.costUsd);
    if (addsToDeliveryCosts(cost)) {
      next.deliveryCosts = addDeliveryCost(record.deliveryCosts, cost);
    }
    this.#counts[record.state] -= 1;
    this.#counts.queued += 1;
    this.#records.set(id, next);
    return true;
  }

  async saveCheckpoint(id: string, checkpoint: StepCheckpoint): Promise<boolean> {
    validateCheckpoint(id, checkpoint);
    this.#sweep();
    const record = this.#records.get(id);
    if (record?.state !== 'running') return false;
    if ((record.checkpoint?.steps ?? 0) >= checkpoint.steps) return false;
    this.#records.set(id, { ...record, checkpoint: copyPlainData(checkpoint) });
    return true;
  }

  async complete(id: string, completion: TaskCompletion): Promise<boolean> {
    this.#sweep();
    const record = this.#records.get(id);
    if (record === undefined) return false;
    const { completionId, ...fields } = completion;
    if (isTerminal(record.state)) {
      return completionId !== undefined && this.#completionIds.get(id) === completionId;
    }
    this.#counts[record.state] -= 1;
    this.#records.set(id, applyCompletion(record, copyPlainData(fields)));
    this.#counts[completion.state] += 1;
    if (completionId !== undefined) this.#completionIds.set(id, completionId);
    this.#expireTask(id);
    return true;
  }

  /** Goes through `complete`, then reads the record without another turn of the event loop. */
  async completeAndRead(id: string, completion: TaskCompletion): Promise<CompletedRead> {
    const stored = await this.complete(id, completion);
    const record = this.#records.get(id);
    return { stored, record: record === undefined ? undefined : copyPlainData(record) };
  }

  async claimIdempotencyKey(tenantId: string, key: string, taskId: string): Promise<string> {
    this.#sweep();
    const slot = slotOf(tenantId, key);
    const now = this.#clock.now();
    const existing = this.#idempotency.get(slot);
    if (existing !== undefined && existing.expiresAt > now) return existing.taskId;
    const expiresAt = now + this.#lifetimes.claimTtlMs;
    this.#idempotency.set(slot, { taskId, expiresAt });
    this.#claimExpiries.add(expiresAt, slot);
    return taskId;
  }

  async releaseIdempotencyKey(tenantId: string, key: string, taskId: string): Promise<void> {
    const slot = slotOf(tenantId, key);
    if (this.#idempotency.get(slot)?.taskId === taskId) this.#idempotency.delete(slot);
  }

  /** Ids of the tasks not yet in a terminal state: queued or running. */
  unfinishedIds(): string[] {
    const ids: string[] = [];
    for (const [id, record] of this.#records) {
      if (!isTerminal(record.state)) ids.push(id);
    }
    return ids;
  }

  async accounting(): Promise<TaskAccounting> {
    return { ...this.#counts };
  }

  async close(): Promise<void> {
    this.#records.clear();
    this.#idempotency.clear();
    this.#slotOfTask.clear();
    this.#taskExpiries.clear();
    this.#claimExpiries.clear();
    this.#boundExpiries.clear();
  }

  /** Deletes a terminal task, and the key still bound to it, once the retention has passed. */
  #expireTask(id: string): void {
    const expiresAt = this.#clock.now() + this.#lifetimes.retentionMs;
    this.#taskExpiries.add(expiresAt, id);
    const binding = this.#idempotency.get(this.#slotOfTask.get(id) ?? '');
    if (binding?.taskId === id) binding.expiresAt = expiresAt;
  }

  /**
   * Deletes the terminal tasks and the idempotency keys whose time is up. A key's
   * expiry moves on as its task is stored and ends, so an entry deletes its key only
   * when the binding it finds has expired.
   */
  #sweep(): void {
    const now = this.#clock.now();
    const expireKey = (slot: string): void => {
      if ((this.#idempotency.get(slot)?.expiresAt ?? now) <= now) this.#idempotency.delete(slot);
    };
    this.#taskExpiries.sweep(now, (id) => {
      this.#records.delete(id);
      this.#completionIds.delete(id);
      const slot = this.#slotOfTask.get(id);
      this.#slotOfTask.delete(id);
      if (slot !== undefined) expireKey(slot);
    });
    this.#claimExpiries.sweep(now, expireKey);
    this.#boundExpiries.sweep(now, expireKey);
  }
}

/** Map key of a tenant's idempotency key. */
function slotOf(tenantId: string, key: string): string {
  return `${tenantId}\u0000${key}`;
}

/**
 * Ids with the times they expire, added in time order: every id of one line has the same
 * lifetime, and the clock does not run back.
 */
class ExpiryLine {
  readonly #entries: { at: number; id: string }[] = [];
  /** Index of the first entry not yet swept. */
  #head = 0;

  add(at: number, id: string): void {
    this.#entries.push({ at, id });
  }

  /** Calls `expire` with each id whose time is at or before `now`, once. */
  sweep(now: number, expire: (id: string) => void): void {
    for (let entry = this.#entries[this.#head]; entry !== undefined && entry.at <= now;) {
      this.#head += 1;
      expire(entry.id);
      entry = this.#entries[this.#head];
    }
    // Drops the swept entries once they are most of the array, so a sweep costs O(1) amortised.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#head = 0;
    }
  }

  clear(): void {
    this.#entries.length = 0;
    this.#head = 0;
  }
}
