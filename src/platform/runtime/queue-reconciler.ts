import type { Clock } from '../clock.js';
import type { JobEndedEvent } from '../executors/worker-protocol.js';
import type { TaskQueue } from '../queue/index.js';
import type { TaskStore } from '../store/task-store.js';
import type { TaskRecord } from '../task.js';

/** Called with a task's record once a queue-ended job's terminal state is stored. */
export type OnJobEndStored = (record: TaskRecord) => void;

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
  onStored?: OnJobEndStored,
): void {
  queue.on('failed', ({ id, error }) =>
    storeJobEnd(store, clock, { id, state: 'failed', message: error.message }, onStored),
  );
  queue.on('deadLettered', ({ id, error }) =>
    storeJobEnd(store, clock, { id, state: 'dead_lettered', message: error.message }, onStored),
  );
}

/**
 * Stores the terminal state of a job the queue ended and calls `onStored` with the
 * record. A task already terminal keeps its state, and `onStored` is not called.
 */
export function storeJobEnd(
  store: TaskStore,
  clock: Clock,
  event: JobEndedEvent,
  onStored?: OnJobEndStored,
): void {
  const code = event.state === 'failed' ? 'queue_failed' : 'dead_lettered';
  const error = { code, message: event.message };
  store.completeAndRead(event.id, { state: event.state, finishedAt: clock.now(), error }).then(
    (read) => {
      if (read.stored && read.record !== undefined) onStored?.(read.record);
    },
    // A store that cannot be written leaves the task for the queue's next delivery.
    () => undefined,
  );
}
