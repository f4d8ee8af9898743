/** Options of the worker pool, validated before any process starts. */
import { type Clock, systemClock } from '../clock.js';
import type { QueueOptions } from '../queue/index.js';
import { handlerModuleUrl } from './worker-handler.js';

/** Queue settings a worker process uses; retry and stall options apply to its consumer. */
export interface BullmqQueueSpec extends Omit<
  QueueOptions,
  'clock' | 'random' | 'globalConcurrency'
> {
  driver: 'bullmq';
  /** Redis URL, such as `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** @defaultValue 'scalegate' */
  prefix?: string;
}

export interface WorkerPoolOptions {
  /** Worker processes to fork. */
  processes: number;
  /** Jobs each process runs at once. */
  concurrency: number;
  /**
   * Cap on active jobs across every process.
   * @defaultValue no cap
   */
  globalConcurrency?: number;
  /** Only BullMQ: an in-memory queue cannot span processes. */
  queue: BullmqQueueSpec | { driver: 'memory' };
  /** Absolute path or file: URL of a module exporting `createHandler(config)`. */
  handlerModule: string;
  /** JSON-serialisable config passed to `createHandler`. */
  handlerConfig?: unknown;
  /**
   * Time a process has to drain after stop() before it gets SIGKILL. After a SIGTERM or
   * SIGINT of its own, the time it waits for its running jobs before it aborts them.
   * @defaultValue 30000
   */
  shutdownTimeoutMs?: number;
  /**
   * Time a process that aborted its running jobs after a SIGTERM or SIGINT of its own
   * waits for them to end, as the handler module's `abortHandler` makes them do, before it
   * exits with the jobs still active.
   * @defaultValue 10000
   */
  abortGraceMs?: number;
  /**
   * Time every process has to report ready.
   * @defaultValue 30000
   */
  startTimeoutMs?: number;
  /**
   * Forks a replacement when a process exits without stop() being called.
   * @defaultValue false
   */
  restartCrashed?: boolean;
  /** @defaultValue 500 */
  restartDelayMs?: number;
  /**
   * pino level of the worker processes' logs.
   * @defaultValue 'info'
   */
  logLevel?: string;
  /** @defaultValue systemClock */
  clock?: Clock;
}

export type ResolvedWorkerPoolOptions = Required<
  Omit<WorkerPoolOptions, 'globalConcurrency' | 'queue'>
> & {
  globalConcurrency: number | undefined;
  queue: BullmqQueueSpec;
};

/** Validates pool options; throws TypeError or RangeError naming the option. */
export function resolveWorkerPoolOptions(options: WorkerPoolOptions): ResolvedWorkerPoolOptions {
  const queue = requireBullmq(options.queue);
  handlerModuleUrlOrThrow(options.handlerModule);
  requireJson(options.handlerConfig);
  return {
    processes: integerAtLeast('processes', options.processes, 1),
    concurrency: integerAtLeast('concurrency', options.concurrency, 1),
    globalConcurrency:
      options.globalConcurrency === undefined
        ? undefined
        : integerAtLeast('globalConcurrency', options.globalConcurrency, 1),
    queue,
    handlerModule: options.handlerModule,
    handlerConfig: options.handlerConfig ?? null,
    shutdownTimeoutMs: integerAtLeast('shutdownTimeoutMs', options.shutdownTimeoutMs ?? 30_000, 0),
    abortGraceMs: integerAtLeast('abortGraceMs', options.abortGraceMs ?? 10_000, 0),
    startTimeoutMs: integerAtLeast('startTimeoutMs', options.startTimeoutMs ?? 30_000, 1),
    restartCrashed: options.restartCrashed ?? false,
    restartDelayMs: integerAtLeast('restartDelayMs', options.restartDelayMs ?? 500, 0),
    logLevel: options.logLevel ?? 'info',
    clock: options.clock ?? systemClock,
  };
}

function requireBullmq(queue: WorkerPoolOptions['queue']): BullmqQueueSpec {
  if (queue?.driver !== 'bullmq') {
    throw new TypeError(
      `queue.driver must be 'bullmq', got ${JSON.stringify(queue?.driver)}: worker processes ` +
        'cannot share an in-memory queue, so use startInProcessWorkers for the memory driver',
    );
  }
  return queue;
}

function handlerModuleUrlOrThrow(specifier: unknown): void {
  try {
    if (typeof specifier !== 'string') {
      throw new TypeError('not a string');
    }
    handlerModuleUrl(specifier);
  } catch {
    throw new TypeError(
      `handlerModule must be an absolute path or a file: URL, got ${JSON.stringify(specifier)}`,
    );
  }
}

function requireJson(config: unknown): void {
  try {
    JSON.stringify(config);
  } catch {
    throw new TypeError('handlerConfig must be JSON-serialisable');
  }
}

function integerAtLeast(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${option} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}
