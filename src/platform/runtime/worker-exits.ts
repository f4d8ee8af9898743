import type { Logger } from 'pino';

import type { WorkerExitEvent, WorkerRestartEvent } from '../executors/worker-pool.js';
import type { PlatformMetrics, WorkerExitReason } from '../metrics/index.js';

/** Returns why a worker process exited: killed by a signal, or its exit code. */
export function workerExitReason(
  event: Pick<WorkerExitEvent, 'code' | 'signal'>,
): WorkerExitReason {
  if (event.signal !== null) return 'signal';
  return event.code === 0 ? 'clean' : 'error';
}

/**
 * Logs a worker process exit, at info when the platform stopped the process and at warn
 * otherwise, and counts each exit the platform did not request.
 */
export function recordWorkerExit(
  logger: Logger | undefined,
  metrics: Pick<PlatformMetrics, 'recordWorkerExit'>,
  event: WorkerExitEvent,
): void {
  const fields = {
    workerIndex: event.index,
    // pino's own `pid` field is the platform process.
    workerPid: event.pid,
    code: event.code,
    signal: event.signal,
    expected: event.expected,
  };
  if (event.expected) {
    logger?.info(fields, 'worker process exited');
    return;
  }
  const reason = workerExitReason(event);
  metrics.recordWorkerExit(reason);
  logger?.warn({ ...fields, reason }, UNEXPECTED_EXIT_MESSAGES[reason]);
}

/**
 * Messages of an exit the platform did not request. A worker process exits with code 0 only
 * once no job of its own is running, as after a SIGTERM sent to it alone. Each job then
 * finished, or its task was cut at the drain time and went back to the queue, so no job
 * waits for the stall check.
 */
const UNEXPECTED_EXIT_MESSAGES: Record<WorkerExitReason, string> = {
  signal:
    'worker process exited unexpectedly; the queue redelivers its active jobs once they stall',
  error: 'worker process exited unexpectedly; the queue redelivers its active jobs once they stall',
  clean:
    'worker process exited unexpectedly with code 0 after its running jobs finished or went back to the queue',
};

/** Logs the start of a process that replaces a crashed one. */
export function logWorkerRestart(logger: Logger | undefined, event: WorkerRestartEvent): void {
  logger?.info({ workerIndex: event.index, workerPid: event.pid }, 'worker process restarted');
}
