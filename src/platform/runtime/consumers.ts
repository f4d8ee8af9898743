import { fileURLToPath } from 'node:url';

import { startInProcessWorkers } from '../executors/worker-in-process.js';
import {
  startWorkerPool,
  type WorkerExitEvent,
  type WorkerRestartEvent,
} from '../executors/worker-pool.js';
import type { WorkerPoolOptions } from '../executors/worker-pool-options.js';
import type { JobEndedEvent } from '../executors/worker-protocol.js';
import type { QueuedTaskData } from '../gateway/ports.js';
import type { JobHandler, TaskQueue } from '../queue/index.js';
import type { WorkerHandlerConfig } from './worker-handler.js';
import { createWorkerSwitch, type WorkerSwitch } from './worker-switch.js';

const WORKER_HANDLER = fileURLToPath(new URL('./worker-handler.ts', import.meta.url));

export interface ConsumerSettings {
  /** Jobs run at once over all consumers. */
  workers: number;
  /** Processes to fork; 0 runs the consumers in this process. */
  processes: number;
  queue: TaskQueue<QueuedTaskData>;
  /** Handler of in-process consumers. */
  handler: JobHandler<QueuedTaskData>;
  /** Config of worker processes; required when `processes` is above 0. */
  worker?: WorkerHandlerConfig & {
    backoffBaseMs: number;
    backoffMaxMs: number;
    stallIntervalMs: number;
  };
  /**
   * Time a worker process sent SIGTERM or SIGINT on its own waits for its running tasks
   * before it cuts them, which puts them back in the queue. The platform passes its drain time.
   */
  shutdownTimeoutMs: number;
  /** Time a worker process has after cutting its tasks to put them back in the queue. */
  abortGraceMs: number;
  /**
   * Lowest level at which worker processes log, such as the platform logger's level.
   * @defaultValue 'warn'
   */
  logLevel?: string;
  /** Receives each batch of metric calls a worker process sends, with its slot index. @defaultValue none */
  onWorkerMetrics?: (calls: unknown[], processIndex: number) => void;
  /** Receives each job the queue ended in a worker process without its handler. @defaultValue none */
  onWorkerJobEnded?: (event: JobEndedEvent) => void;
  /** Receives each worker process exit, requested or not. @defaultValue none */
  onWorkerExit?: (event: WorkerExitEvent) => void;
  /** Receives the start of each process that replaces a crashed one. @defaultValue none */
  onWorkerRestart?: (event: WorkerRestartEvent) => void;
}

/** Running queue consumers, in this process or in a worker pool. */
export interface RunningConsumers {
  kind: 'in-process' | 'worker-pool';
  processes: number;
  /**
   * Stops taking jobs and waits for active ones. Worker processes that have not exited
   * after `killAfterMs` are killed. @defaultValue killAfterMs: `shutdownTimeoutMs`
   */
  stop(killAfterMs?: number): Promise<void>;
  /**
   * Ends the active jobs of worker processes now. In-process consumers need no call:
   * their tasks listen on the platform's shutdown signal.
   */
  abort(): void;
  /** Pauses and resumes the consumers; only in-process ones can be paused. */
  switch: WorkerSwitch;
}

/**
 * Starts the async consumers. Worker processes split `workers` evenly, each
 * running ceil(workers / processes) jobs at once, on the BullMQ queue.
 */
export async function startConsumers(settings: ConsumerSettings): Promise<RunningConsumers> {
  const { worker } = settings;
  if (settings.processes === 0 || worker === undefined) {
    const workers = startInProcessWorkers({
      queue: settings.queue,
      concurrency: settings.workers,
      handler: settings.handler,
    });
    return {
      kind: 'in-process',
      processes: 0,
      stop: () => workers.stop(),
      abort: () => {},
      switch: createWorkerSwitch(settings.workers, { consumer: workers.consumer }),
    };
  }
  const poolOptions: WorkerPoolOptions = {
    processes: settings.processes,
    concurrency: Math.ceil(settings.workers / settings.processes),
    queue: {
      driver: 'bullmq',
      redisUrl: worker.redisUrl,
      prefix: worker.keyPrefix,
      name: settings.queue.name,
      maxAttempts: worker.maxAttempts,
      backoffBaseMs: worker.backoffBaseMs,
      backoffMaxMs: worker.backoffMaxMs,
      stallIntervalMs: worker.stallIntervalMs,
      retentionMs: worker.taskRetentionMs,
    },
    handlerModule: WORKER_HANDLER,
    handlerConfig: worker,
    logLevel: settings.logLevel ?? 'warn',
    shutdownTimeoutMs: settings.shutdownTimeoutMs,
    abortGraceMs: settings.abortGraceMs,
    // A process that exits is replaced, so the platform keeps its consumers. The jobs of a
    // crashed one are redelivered when the queue finds them stalled.
    restartCrashed: true,
  };
  const { onWorkerMetrics, onWorkerJobEnded, onWorkerExit, onWorkerRestart } = settings;
  // The listeners go on before the processes fork, because the first ready process takes
  // jobs while the others still start, and its metric and jobEnded messages need them.
  const pool = await startWorkerPool(poolOptions, (starting) => {
    if (onWorkerMetrics !== undefined) starting.on('metrics', onWorkerMetrics);
    if (onWorkerJobEnded !== undefined) starting.on('jobEnded', onWorkerJobEnded);
    if (onWorkerExit !== undefined) starting.on('exit', onWorkerExit);
    if (onWorkerRestart !== undefined) starting.on('restart', onWorkerRestart);
  });
  return {
    kind: 'worker-pool',
    processes: settings.processes,
    stop: (killAfterMs) => pool.stop(killAfterMs),
    abort: () => pool.abortRunning(),
    switch: createWorkerSwitch(settings.workers, { processes: settings.processes }),
  };
}
