import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { AdmissionBackend } from '../admission/types.js';
import type { Clock } from '../clock.js';
import { addUsd } from '../cost/usd.js';
import type { SyncTaskOwnership } from '../gateway/ports.js';
import type { TaskQueue } from '../queue/queue.js';
import { isTerminal, type TaskStore } from '../store/task-store.js';
import type { TaskMode, TaskRecord } from '../task.js';
import { SEND_AGAIN_WITH_NEW_KEY } from './failure.js';
import { uncountedSpendUsd } from './task-finisher.js';

/**
 * A task whose platform process stopped while it owned it: a sync task it ran, or an async
 * task it was admitting. The task record may not exist.
 */
export interface OrphanedSyncTask {
  taskId: string;
  tenantId: string;
  /** Instance id of the platform process that owned the task. */
  owner: string;
  /** True when an earlier sweep of this process left the task for a later one. */
  leftBefore: boolean;
  /**
   * True for an entry of the sweeping process itself that no running task holds: the task's
   * run ended, but its end may not have been stored.
   */
  ownerAlive: boolean;
}

/** `later` keeps the task's owner entry, so that a later sweep finds the task again. */
export type OrphanOutcome = 'ended' | 'later';

export interface RedisSyncTaskOwnersOptions {
  redisUrl: string;
  /** Prefix of the owners hash and of each process's lease key. */
  keyPrefix: string;
  /**
   * Ends one orphaned task, such as by storing its failure and freeing its admission ticket,
   * or leaves it for a later sweep by resolving to `later`.
   */
  onOrphan: (orphan: OrphanedSyncTask) => Promise<OrphanOutcome | undefined>;
  /** Receives a failed lease renewal, sweep or orphan clean-up. @defaultValue none */
  onError?: (error: unknown, operation: string) => void;
  /** @defaultValue a random UUID */
  instanceId?: string;
  /**
   * Lifetime of this process's lease, renewed every third of it. Another process ends
   * this process's tasks once the lease has been missing from two of its sweeps this
   * far apart. @defaultValue 15_000
   */
  leaseMs?: number;
  /** Time between two sweeps for orphaned tasks. @defaultValue leaseMs */
  sweepIntervalMs?: number;
}

/** Default of {@link RedisSyncTaskOwnersOptions.leaseMs}. */
export const DEFAULT_SYNC_LEASE_MS = 15_000;

/** Time `close` waits for a sweep still running, in ms. */
const CLOSE_SWEEP_WAIT_MS = 1000;

/** Entries read per HSCAN call of a sweep. */
const SCAN_COUNT = 500;

/**
 * Records in Redis which platform process runs each sync task, so that the other
 * processes on the same Redis can end the tasks of a killed process. A sync task runs
 * inside the process that took its request, and no queue redelivers it. Without this,
 * a process killed with SIGKILL would leave its tasks `running` and their admission
 * tickets holding the tenant's in-flight slots until the tickets expire. An async task
 * has an entry too, from before its admission until its job is in the queue, because a
 * kill in between leaves a ticket, and maybe a `queued` record, that no job ends.
 *
 * Each process keeps a lease key alive. A sweep ends the tasks of an owner whose lease
 * has been missing from sweeps a whole lease time apart. A Redis outage ends no task,
 * because sweeps fail while it lasts and every live process renews its lease within a
 * third of a lease time of Redis replying again.
 * The steps and failed attempts that a lost run charged before its task was failed count
 * in the task's cost and the ledger, as they do in the tenant's spend.
 * NOTE: a live process paused for longer than that loses its tasks too. Their runs then
 * find them terminal, so what they spend after that reaches neither the cost ledger nor
 * the budget. The provider call a lost run was in is charged nowhere.
 */
export class RedisSyncTaskOwners implements SyncTaskOwnership {
  readonly instanceId: string;
  readonly #redis: Redis;
  readonly #ownersKey: string;
  readonly #leasePrefix: string;
  readonly #leaseMs: number;
  readonly #options: RedisSyncTaskOwnersOptions;
  /** Tasks this process owns, by id. */
  readonly #held = new Set<string>();
  /** Owners whose lease was missing, with the time it was first seen missing. */
  readonly #suspects = new Map<string, number>();
  /** Tasks that a sweep of this process left for a later one. */
  readonly #leftForLater = new Set<string>();
  #timers: NodeJS.Timeout[] = [];
  #sweeping: Promise<number> | undefined;

  constructor(options: RedisSyncTaskOwnersOptions) {
    this.#options = options;
    this.instanceId = options.instanceId ?? randomUUID();
    this.#leaseMs = options.leaseMs ?? DEFAULT_SYNC_LEASE_MS;
    if (!Number.isInteger(this.#leaseMs) || this.#leaseMs < 3) {
      throw new RangeError(`leaseMs must be an integer >= 3, got ${String(options.leaseMs)}`);
    }
    this.#ownersKey = `${options.keyPrefix}:sync-owners`;
    this.#leasePrefix = `${options.keyPrefix}:sync-lease:`;
    this.#redis = new Redis(options.redisUrl, {
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      commandTimeout: Math.max(1000, Math.floor(this.#leaseMs / 3)),
    });
    // Connection errors surface as failed commands, which onError receives.
    this.#redis.on('error', () => undefined);
  }

  /** Writes this process's lease, then renews it and sweeps on timers. */
  async start(): Promise<void> {
    await this.#renew();
    const renew = setInterval(() => void this.#renew(), Math.floor(this.#leaseMs / 3));
    const sweep = setInterval(
      () => void this.sweep(),
      this.#options.sweepIntervalMs ?? this.#leaseMs,
    );
    this.#timers = [renew, sweep];
    for (const timer of this.#timers) timer.unref();
  }

  async hold(tenantId: string, taskId: string): Promise<void> {
    this.#held.add(taskId);
    await this.#redis.hset(this.#ownersKey, taskId, `${this.instanceId} ${tenantId}`);
  }

  async drop(taskId: string): Promise<void> {
    this.#held.delete(taskId);
    await this.#redis.hdel(this.#ownersKey, taskId);
  }

  forget(taskId: string): void {
    this.#held.delete(taskId);
  }

  /**
   * Ends the tasks of owners whose lease has been missing for a lease time, and those of
   * this process's entries that no running task holds, as after a drop that failed or a
   * run whose end could not be stored. Returns the number of tasks ended. A sweep still
   * running is shared.
   */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweepOnce()
      .catch((error: unknown) => {
        this.#options.onError?.(error, 'sweep for orphaned tasks');
        return 0;
      })
      .finally(() => {
        this.#sweeping = undefined;
      });
    return this.#sweeping;
  }

  /** Stops the timers and deletes this process's lease; its running tasks have ended by now. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    // A sweep waiting on a Redis that does not reply must not hold up the stop.
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_SWEEP_WAIT_MS);
    });
    await Promise.race([this.#sweeping, waited]);
    clearTimeout(timer);
    try {
      await this.#redis.del(this.#leaseKey(this.instanceId));
    } catch (error) {
      this.#options.onError?.(error, 'deleting the sync task lease');
    }
    this.#redis.disconnect();
  }

  async #renew(): Promise<void> {
    try {
      await this.#redis.set(this.#leaseKey(this.instanceId), '1', 'PX', this.#leaseMs);
    } catch (error) {
      this.#options.onError?.(error, 'renewing the sync task lease');
    }
  }

  async #sweepOnce(): Promise<number> {
    // Taken before any read, so two sweeps a sweep interval apart are at least that far apart.
    const now = Date.now();
    const entries = await this.#readOwners();
    const listed = new Set(entries.map(([taskId]) => taskId));
    for (const taskId of this.#leftForLater) {
      if (!listed.has(taskId)) this.#leftForLater.delete(taskId);
    }
    const byOwner = new Map<string, { taskId: string; tenantId: string }[]>();
    const stale: { taskId: string; tenantId: string }[] = [];
    for (const [taskId, value] of entries) {
      const [owner = '', tenantId = ''] = value.split(' ');
      if (owner === this.instanceId) {
        if (!this.#held.has(taskId)) stale.push({ taskId, tenantId });
        continue;
      }
      const tasks = byOwner.get(owner) ?? [];
      tasks.push({ taskId, tenantId });
      byOwner.set(owner, tasks);
    }
    // Checked again after the read, because a task held since then is running.
    const unheld = stale.filter((task) => !this.#held.has(task.taskId));
    let ended = await this.#endTasks(this.instanceId, unheld, true);
    const lost = await this.#lostOwners([...byOwner.keys()], now);
    for (const owner of lost) {
      ended += await this.#endTasks(owner, byOwner.get(owner) ?? [], false);
      this.#suspects.delete(owner);
    }
    return ended;
  }

  /** Ends the listed tasks of `owner` through `onOrphan` and deletes the entries it ended. */
  async #endTasks(
    owner: string,
    tasks: { taskId: string; tenantId: string }[],
    ownerAlive: boolean,
  ): Promise<number> {
    let ended = 0;
    for (const task of tasks) {
      const leftBefore = this.#leftForLater.has(task.taskId);
      const outcome = await this.#options.onOrphan({ ...task, owner, leftBefore, ownerAlive });
      if (outcome === 'later') {
        this.#leftForLater.add(task.taskId);
        continue;
      }
      this.#leftForLater.delete(task.taskId);
      await this.#redis.hdel(this.#ownersKey, task.taskId);
      ended += 1;
    }
    return ended;
  }

  async #readOwners(): Promise<[string, string][]> {
    const entries: [string, string][] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.#redis.hscan(this.#ownersKey, cursor, 'COUNT', SCAN_COUNT);
      for (let index = 0; index + 1 < flat.length; index += 2) {
        entries.push([flat[index] ?? '', flat[index + 1] ?? '']);
      }
      cursor = next;
    } while (cursor !== '0');
    return entries;
  }

  /** Returns the owners whose lease has been missing since a sweep at least a lease time ago. */
  async #lostOwners(owners: string[], now: number): Promise<string[]> {
    for (const owner of this.#suspects.keys()) {
      if (!owners.includes(owner)) this.#suspects.delete(owner);
    }
    if (owners.length === 0) return [];
    const alive = await Promise.all(
      owners.map((owner) => this.#redis.exists(this.#leaseKey(owner))),
    );
    const lost: string[] = [];
    for (const [index, owner] of owners.entries()) {
      if (alive[index] === 1) {
        this.#suspects.delete(owner);
        continue;
      }
      const since = this.#suspects.get(owner);
      if (since === undefined) {
        this.#suspects.set(owner, now);
      } else if (now - since >= this.#leaseMs) {
        lost.push(owner);
      }
    }
    return lost;
  }

  #leaseKey(instanceId: string): string {
    return `${this.#leasePrefix}${instanceId}`;
  }
}

/** Dependencies of {@link startSyncTaskOwners} for ending the orphaned tasks it finds. */
export interface SyncTaskOwnersWiring {
  redisUrl: string;
  keyPrefix: string;
  /** @defaultValue DEFAULT_SYNC_LEASE_MS */
  leaseMs?: number;
  store: TaskStore;
  admission: Pick<AdmissionBackend, 'release'>;
  /** The task queue, to tell whether an orphaned async task reached it. */
  queue: Pick<TaskQueue<unknown>, 'hasJob'>;
  clock: Clock;
  /** Called with each orphaned task's stored failure, for metrics and the cost ledger. */
  onEnded: (record: TaskRecord) => void;
  logger?: Logger;
}

/**
 * Starts the owner record of this process's sync tasks and async admissions. Its sweeps
 * fail the orphaned tasks of dead processes with `gateway_lost` and free their admission
 * tickets, except async tasks whose job is in the queue, which runs them.
 */
export async function startSyncTaskOwners(
  wiring: SyncTaskOwnersWiring,
): Promise<RedisSyncTaskOwners> {
  const { logger } = wiring;
  const owners = new RedisSyncTaskOwners({
    redisUrl: wiring.redisUrl,
    keyPrefix: wiring.keyPrefix,
    leaseMs: wiring.leaseMs,
    onOrphan: (orphan) => endOrphan(wiring, orphan),
    onError: (error, operation) => {
      // Renewals fail all through a Redis outage, which the Redis monitor logs already.
      const level = operation.startsWith('renewing') ? 'debug' : 'warn';
      logger?.[level]({ err: error }, `${operation} failed`);
    },
  });
  await owners.start();
  return owners;
}

/**
 * Ends an orphaned task unless its job is in the queue. The ticket is released first,
 * because the release reports what the task's lost run charged, and the stored failure
 * counts that as the task's cost. Another process may have released the ticket first,
 * as when two processes sweep the same orphan. That process stores the failure with the
 * cost, so this one leaves the task to its next sweep, which stores a failure still
 * missing then. The failure write and the ticket release each change nothing
 * when repeated, so two processes that sweep the same orphan store one failure and free
 * the ticket once. A task with no record, whose process stopped before storing it, only
 * has its ticket freed; the task id names the ticket. The owner entry does not name the
 * task's Idempotency-Key: a key claimed for a task that was never stored is freed by the
 * store 60 s after its claim, and retries get 409 until then.
 */
async function endOrphan(
  wiring: SyncTaskOwnersWiring,
  orphan: OrphanedSyncTask,
): Promise<OrphanOutcome> {
  const { taskId, tenantId, owner } = orphan;
  const existing = await wiring.store.getById(taskId);
  const mode = existing?.request.mode;
  const pending = existing !== undefined && !isTerminal(existing.state);
  // The job of an async task that reached the queue runs the task and frees its ticket.
  if (mode === 'async' && pending && (await wiring.queue.hasJob(taskId))) return 'ended';
  // The release frees the reservation recorded with the ticket, so the amounts here are unused.
  const released = await wiring.admission.release({
    id: taskId,
    tenantId,
    reservedUsd: 0,
    tokens: 0,
  });
  if (pending && released.outcome === 'already_closed' && !orphan.leftBefore) return 'later';
  const uncountedUsd = pending ? uncountedSpendUsd(existing, released.runs) : 0;
  const read = await wiring.store.completeAndRead(taskId, {
    state: 'failed',
    finishedAt: wiring.clock.now(),
    error: orphan.ownerAlive
      ? { code: 'store_unavailable', message: unstoredEndMessage(owner) }
      : { code: 'gateway_lost', message: lostMessage(mode, owner) },
    ...(uncountedUsd > 0 ? { costUsd: addUsd(existing?.costUsd ?? 0, uncountedUsd) } : {}),
  });
  if (read.stored && read.record !== undefined) {
    wiring.onEnded(read.record);
    const taskKind = mode === 'async' ? 'an async task during its admission' : 'a sync task';
    const cause = orphan.ownerAlive
      ? 'whose end this platform process could not store'
      : 'whose platform process stopped';
    wiring.logger?.warn({ taskId, tenantId, owner }, `failed ${taskKind} ${cause}`);
  } else if (existing === undefined && released.outcome === 'applied') {
    wiring.logger?.warn(
      { taskId, tenantId, owner },
      'freed the admission ticket of a task whose platform process stopped before storing it',
    );
  }
  return 'ended';
}

function unstoredEndMessage(owner: string): string {
  return `platform process ${owner} ran this task but could not store its end, because Redis did not reply; ${SEND_AGAIN_WITH_NEW_KEY}`;
}

function lostMessage(mode: TaskMode | undefined, owner: string): string {
  if (mode === 'async') {
    return `platform process ${owner} stopped while admitting this async task, before its job reached the queue, so it never ran; ${SEND_AGAIN_WITH_NEW_KEY}`;
  }
  return `platform process ${owner}, which ran this sync task, stopped without ending it; ${SEND_AGAIN_WITH_NEW_KEY}`;
}
