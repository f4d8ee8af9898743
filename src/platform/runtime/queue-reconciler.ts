import type { Clock } from '../clock.js';
import type { TaskQueue } from '../queue/index.js';
import type { TaskStore } from '../store/task-store.js';

/**
 * Stores a terminal state for jobs the queue ended without the handler doing
 * so, such as a job failed for stalling too often, so every accepted task
 * still reaches a terminal state. Queue events come only from consumers of
 * the same queue object, so this covers in-process consumers.
 * NOTE: the admission ticket of such a task is not released; it expires with the ticket TTL.
 */
export function reconcileQueueFailures<T>(
  queue: TaskQueue<T>,
  store: TaskStore,
  clock: Clock,
): void {
  queue.on('failed', ({ id, error }) => {
    const taskError = { code: 'queue_failed', message: error.message };
    void store.complete(id, { state: 'failed', finishedAt: clock.now(), error: taskError });
  });
  queue.on('deadLettered', ({ id, error }) => {
    const taskError = { code: 'dead_lettered', message: error.message };
    void store.complete(id, { state: 'dead_lettered', finishedAt: clock.now(), error: taskError });
  });
}
