import type { TaskAccounting } from '../store/task-store.js';
import type { PlatformConfig } from './platform-config.js';

/** Settings of {@link startPlatform}: the config plus task and shutdown limits. */
export interface PlatformOptions extends PlatformConfig {
  /**
   * Maximum time an async task may run, tool waits included; the gateway also
   * rejects tasks whose `steps * toolWaitMs` exceeds it. @defaultValue 900_000
   */
  maxTaskDurationMs?: number;
  /**
   * Time `stop` waits for running tasks before it fails them with `platform_shutdown`,
   * except async tasks on Redis, which go back to the queue. @defaultValue 10_000
   */
  shutdownTimeoutMs?: number;
  /** Time to connect to Redis and get a PING reply at start. @defaultValue 3_000 */
  redisCheckTimeoutMs?: number;
  /**
   * On Redis, lifetime of this process's lease on its sync tasks and on the async tasks it
   * is admitting. Once it has been missing for this long, another platform process on the
   * same Redis and key prefix fails those tasks with `gateway_lost`, except async tasks
   * whose job reached the queue. @defaultValue 15_000
   */
  syncTaskLeaseMs?: number;
}

/** Options of `Platform.stop`. */
export interface StopOptions {
  /** Overrides the platform's `shutdownTimeoutMs`. */
  drainTimeoutMs?: number;
  /** Called when the drain time runs out, before running tasks are failed. */
  onDrainTimeout?: () => void;
  /**
   * Deletes every Redis key of this run once the gateway and the consumers stopped, so no
   * worker still runs a task whose keys are gone. Nothing to do in memory.
   * @defaultValue false
   */
  purge?: boolean;
  /**
   * Called with the task store's counts after every task of this process ended or went back
   * to the queue, and before the store closes or `purge` deletes its keys. In memory every
   * accepted task is then terminal. On Redis the counts cover the whole key prefix. Not
   * called when the read fails or takes longer than 1 s, as while Redis does not reply.
   */
  onTaskCounts?: (counts: TaskAccounting) => void;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * Time a worker process has after the drain time to return its cut tasks to the queue.
 * The pool kills it after that.
 */
export const WORKER_ABORT_GRACE_MS = 10_000;

/** @throws RangeError naming the option when a limit is not a positive integer. */
export function checkPlatformLimits(options: PlatformOptions): void {
  const names = [
    'maxTaskDurationMs',
    'shutdownTimeoutMs',
    'redisCheckTimeoutMs',
    'syncTaskLeaseMs',
  ] as const;
  for (const name of names) {
    const value = options[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
    }
  }
}
