/** IPC protocol between the worker pool and its processes. */
import type { BullmqQueueSpec } from './worker-pool-options.js';

/**
 * Environment variable that may carry a worker process's JSON config, for a process started
 * without the pool. The pool writes the config to {@link WORKER_CONFIG_FD} instead, because
 * Linux rejects an environment string above 128 KiB with E2BIG, and the platform's config
 * carries the route policy, the price table and the provider profiles.
 */
export const WORKER_CONFIG_ENV = 'SCALEGATE_WORKER_CONFIG';

/**
 * File descriptor of the pipe on which the pool writes a worker process's JSON config and then
 * closes its end. Descriptor 3 is the IPC channel.
 */
export const WORKER_CONFIG_FD = 4;

export interface WorkerProcessConfig {
  index: number;
  concurrency: number;
  globalConcurrency: number | undefined;
  queue: BullmqQueueSpec;
  handlerModule: string;
  handlerConfig: unknown;
  logLevel: string;
  /**
   * Time a process drains after SIGTERM or SIGINT before it aborts its running jobs, unless
   * the pool's `drain` message came first.
   */
  drainTimeoutMs: number;
  /** Time a process waits for the jobs it aborted to end before it exits with them active. */
  abortGraceMs: number;
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
 * `drain` stops the process as SIGTERM does, with `timeoutMs` as its drain time, and is not
 * counted as a signal, so a SIGINT the terminal sends to the whole process group still
 * counts as the first signal.
 */
export type PoolMessage = { type: 'abortRunning' } | { type: 'drain'; timeoutMs: number };

export function isPoolMessage(message: unknown): message is PoolMessage {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'abortRunning' || type === 'drain';
}
