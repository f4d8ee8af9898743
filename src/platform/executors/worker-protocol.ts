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

/**
 * Messages a worker process sends to the pool over IPC. `metrics` carries metric
 * calls the handler module recorded; the pool passes them on as a 'metrics' event.
 */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'startFailed'; message: string }
  | { type: 'metrics'; calls: unknown[] };

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'ready' || type === 'startFailed' || type === 'metrics';
}
