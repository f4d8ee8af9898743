import { Redis } from 'ioredis';

import { MemoryAdmissionBackend } from '../admission/memory-backend.js';
import { RedisAdmissionBackend } from '../admission/redis-backend.js';
import { MemoryRunSlots, RedisRunSlots, type RunSlots } from '../admission/run-slots.js';
import type { AdmissionBackend } from '../admission/types.js';
import type { Clock } from '../clock.js';
import type { CostLedger } from '../cost/ledger.js';
import { MemoryCostLedger } from '../cost/memory-ledger.js';
import { RedisCostLedger } from '../cost/redis-ledger.js';
import type { QueuedTaskData } from '../gateway/ports.js';
import { createBullmqQueue, createMemoryQueue, type TaskQueue } from '../queue/index.js';
import { DEFAULT_QUEUE_RETENTION_MS, DEFAULT_STALL_INTERVAL_MS } from '../queue/options.js';
import { MemoryTaskStore } from '../store/memory.js';
import { RedisTaskStore } from '../store/redis.js';
import type { TaskStore } from '../store/task-store.js';
import type { TaskRecord } from '../task.js';
import type { PlatformConfig } from './platform-config.js';
import { deleteKeysUnder } from './prefix-keys.js';
import { PlatformShutdownError } from './run-limits.js';

/** Storage of a stateful part of the platform: this process's memory or Redis. */
export type DriverKind = 'memory' | 'redis';

/** The driver kind of each stateful part, as the `platform started` log line names them. */
export interface DriverKinds {
  store: DriverKind;
  admission: DriverKind;
  queue: DriverKind;
  ledger: DriverKind;
}

/** The stateful parts of a platform: in memory, or all on one Redis. */
export interface PlatformDrivers {
  kinds: DriverKinds;
  admission: AdmissionBackend;
  /** Running slots that hold each tenant to its `maxRunning` async tasks. */
  runSlots: RunSlots;
  queue: TaskQueue<QueuedTaskData>;
  store: TaskStore;
  ledger: CostLedger;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  stallIntervalMs: number;
  /** How long a finished task, its queue job and its cost record stay. */
  taskRetentionMs: number;
  /** Redis URL when the drivers use Redis. */
  redisUrl: string | undefined;
  /** Deletes every Redis key of this run; nothing to do in memory. */
  purge(): Promise<void>;
  /**
   * Returns the keys under the prefix in a layout that this version neither reads nor
   * deletes, which an earlier version left; none in memory.
   */
  legacyKeys(): Promise<string[]>;
  /**
   * Fails every task still queued or running with platform_shutdown and passes each
   * record it stored to `onEnded`. Run it once the consumers have stopped. In memory the
   * queue ends with the process, so these tasks would never end. On Redis it does nothing:
   * the tasks stay in the queue and a later start delivers them.
   */
  endUnfinished(onEnded: (record: TaskRecord) => void): Promise<void>;
  close(): Promise<void>;
}

/** Name of the platform's task queue; its BullMQ keys start with `<prefix>:tasks:`. */
export const QUEUE_NAME = 'tasks';

/** Creates memory drivers, or Redis drivers when `redisUrl` (or REDIS_URL) is set. */
export function createDrivers(
  config: PlatformConfig,
  keyPrefix: string,
  clock: Clock,
): PlatformDrivers {
  const redisUrl = config.redisUrl ?? process.env.REDIS_URL;
  const maxAttempts = config.queue?.maxAttempts ?? 3;
  const queueOptions = {
    name: QUEUE_NAME,
    maxAttempts,
    backoffBaseMs: config.queue?.backoffBaseMs ?? 200,
    backoffMaxMs: config.queue?.backoffMaxMs ?? 5_000,
    stallIntervalMs: config.queue?.stallIntervalMs ?? DEFAULT_STALL_INTERVAL_MS,
    retentionMs: config.taskRetentionMs ?? DEFAULT_QUEUE_RETENTION_MS,
    clock,
  };
  if (redisUrl === undefined || redisUrl.length === 0) {
    const store = new MemoryTaskStore({
      clock,
      retentionMs: queueOptions.retentionMs,
    });
    const drivers = {
      kinds: allOn('memory'),
      admission: new MemoryAdmissionBackend({ clock }),
      runSlots: new MemoryRunSlots(clock),
      queue: createMemoryQueue<QueuedTaskData>(queueOptions),
      store,
      ledger: new MemoryCostLedger({ clock, retentionMs: queueOptions.retentionMs }),
      maxAttempts,
      backoffBaseMs: queueOptions.backoffBaseMs,
      backoffMaxMs: queueOptions.backoffMaxMs,
      stallIntervalMs: queueOptions.stallIntervalMs,
      taskRetentionMs: queueOptions.retentionMs,
      redisUrl: undefined,
    };
    return {
      ...drivers,
      purge: async () => {},
      legacyKeys: async () => [],
      endUnfinished: (onEnded) => failUnfinished(store, clock, onEnded),
      close: () => closeAll(drivers),
    };
  }
  return createRedisDrivers(redisUrl, keyPrefix, queueOptions);
}

function createRedisDrivers(
  redisUrl: string,
  keyPrefix: string,
  queueOptions: Parameters<typeof createMemoryQueue>[0] & {
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    stallIntervalMs: number;
    retentionMs: number;
  },
): PlatformDrivers {
  // Auto-pipelining sends the commands issued in one tick, such as a finished task's
  // settle and store write, in one socket write.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
  // Commands fail with their own errors; the connection's error events only repeat them.
  redis.on('error', () => undefined);
  const queue = createBullmqQueue<QueuedTaskData>({
    ...queueOptions,
    connection: redisUrl,
    prefix: keyPrefix,
  });
  const drivers = {
    kinds: allOn('redis'),
    admission: new RedisAdmissionBackend({ redis, keyPrefix: `${keyPrefix}:admission:` }),
    runSlots: new RedisRunSlots(redis, `${keyPrefix}:admission:`),
    queue,
    store: new RedisTaskStore({
      redis,
      keyPrefix: `${keyPrefix}:store`,
      retentionMs: queueOptions.retentionMs,
    }),
    // The ledger keeps the system clock, as the worker processes' ledgers do, so that every
    // process writes to the same time buckets under a time-scaled platform clock.
    ledger: new RedisCostLedger({
      redis,
      keyPrefix: `${keyPrefix}:cost:`,
      retentionMs: queueOptions.retentionMs,
    }),
    maxAttempts: queueOptions.maxAttempts,
    backoffBaseMs: queueOptions.backoffBaseMs,
    backoffMaxMs: queueOptions.backoffMaxMs,
    stallIntervalMs: queueOptions.stallIntervalMs,
    taskRetentionMs: queueOptions.retentionMs,
    redisUrl,
  };
  return {
    ...drivers,
    purge: () => deleteKeysUnder(redis, keyPrefix),
    legacyKeys: () => existingKeys(redis, legacyKeysOf(keyPrefix, queueOptions.name)),
    // The tasks stay in Redis, and the consumers of a later start deliver them.
    endUnfinished: async () => {},
    close: async () => {
      await closeAll(drivers);
      await redis.quit();
    },
  };
}

function allOn(kind: DriverKind): DriverKinds {
  return { store: kind, admission: kind, queue: kind, ledger: kind };
}

async function closeAll(drivers: {
  admission: AdmissionBackend;
  queue: TaskQueue<QueuedTaskData>;
  store: TaskStore;
}) {
  await drivers.queue.close();
  await drivers.admission.close();
  await drivers.store.close();
}

/**
 * Keys that versions before the retention of cost records and accepted ids wrote and kept
 * for good: the ledger's one hash of every task's cost record, and the queue's set of every
 * accepted id.
 */
function legacyKeysOf(keyPrefix: string, queueName: string): string[] {
  return [`${keyPrefix}:cost:tasks`, `${keyPrefix}:${queueName}:scalegate:accepted`];
}

async function existingKeys(redis: Redis, keys: readonly string[]): Promise<string[]> {
  const found = await Promise.all(keys.map((key) => redis.exists(key)));
  return keys.filter((_, index) => found[index] === 1);
}

/** Fails the memory store's unfinished tasks with platform_shutdown. */
async function failUnfinished(
  store: MemoryTaskStore,
  clock: Clock,
  onEnded: (record: TaskRecord) => void,
): Promise<void> {
  const error = { code: 'platform_shutdown', message: new PlatformShutdownError().message };
  for (const id of store.unfinishedIds()) {
    const read = await store.completeAndRead(id, {
      state: 'failed',
      finishedAt: clock.now(),
      error,
    });
    if (read.stored && read.record !== undefined) onEnded(read.record);
  }
}
