import type { Clock } from '../clock.js';
import type { JobEndedEvent } from '../executors/worker-protocol.js';
import type { TaskQueue } from '../queue/index.js';
import type { TaskStore } from '../store/task-store.js';

/**
 * Stores a terminal state for jobs the queue ended without the handler doing
 * so, such as a job failed for stalling too often, so every accepted task
 * still reaches a terminal state. Queue events come only from consumers of
 * the same queue object, so this covers in-process consumers; worker
 * processes send theirs to `storeJobEnd` through the pool.
 * NOTE: the admission ticket of such a task is not released; it expires with the ticket TTL.
 */
export function reconcileQueueFailures<T>(
  queue: TaskQueue<T>,
  store: TaskStore,
  clock: Clock,
): void {
  queue.on('failed', ({ id, error }) =>
    storeJobEnd(store, clock, { id, state: 'failed', message: error.message }),
  );
  queue.on('deadLettered', ({ id, error }) =>
    storeJobEnd(store, clock, { id, state: 'dead_lettered', message: error.message }),
  );
}

/** Stores the terminal state of a job the queue ended; a task already terminal keeps its state. */
export function storeJobEnd(store: TaskStore, clock: Clock, event: JobEndedEvent): void {
  const code = event.state === 'failed' ? 'queue_failed' : 'dead_lettered';
  const error = { code, message: event.message };
  void store.complete(event.id, { state: event.state, finishedAt: clock.now(), error });
}
