/** IPC protocol between the worker pool and its processes. */
import type { BullmqQueueSpec } from './worker-pool-options.js';

/** Environment variable carrying a worker process's JSON config. */
export const WORKER_CONFIG_ENV = 'SCALEGATE_WORKER_CONFIG';

export interface WorkerProcessConfig {
  index: number;
  concurrency: number;
  globalConcurrency: number | undefined;
  queue: BullmqQueueSpec;
  handlerModule: string;
  handlerConfig: unknown;
  logLevel: string;
}

/** A job the queue ended without its handler: failed for good, or dead-lettered. */
export interface JobEndedEvent {
  id: string;
  state: 'failed' | 'dead_lettered';
  message: string;
  /** The job's payload as enqueued. */
  data: unknown;
}

/**
 * Messages a worker process sends to the pool over IPC. `metrics` carries metric
 * calls the handler module recorded, and `jobEnded` a job the queue ended. The pool
 * passes both on as events of the same names.
 */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'startFailed'; message: string }
  | { type: 'metrics'; calls: unknown[] }
  | ({ type: 'jobEnded' } & JobEndedEvent);

const MESSAGE_TYPES = new Set(['ready', 'startFailed', 'metrics', 'jobEnded']);

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' && MESSAGE_TYPES.has(type);
}

/**
 * Messages the pool sends to its worker processes. `abortRunning` requests that the
 * handler module end its running jobs now, as a platform does when its drain time runs out.
 */
export type PoolMessage = { type: 'abortRunning' };

export function isPoolMessage(message: unknown): message is PoolMessage {
  return (message as { type?: unknown } | null)?.type === 'abortRunning';
}
