import type { RunSlots } from '../admission/run-slots.js';
import type { AdmissionTicket } from '../admission/types.js';
import type { Clock } from '../clock.js';
import type { JobEndedEvent } from '../executors/worker-protocol.js';
import type { TaskQueue } from '../queue/index.js';
import type { TaskStore } from '../store/task-store.js';
import type { TaskRecord } from '../task.js';
import type { TicketCloser } from './task-finisher.js';

/** Hooks around storing the terminal state of a job the queue ended. */
export interface JobEndHooks {
  /** Admission backend that releases the ticket in the job's payload once the state is stored. */
  admission?: Pick<TicketCloser, 'release'>;
  /** Running slots. The task's slot is freed once its state is stored. */
  runSlots?: Pick<RunSlots, 'release'>;
  /** Called with the task's record once its terminal state is stored. */
  onStored?: (record: TaskRecord) => void;
  /** Called when the store write or the ticket release fails. */
  onError?: (error: unknown, event: JobEndedEvent) => void;
}

/**
 * Stores a terminal state for jobs the queue ended without the handler doing
 * so, such as a job failed for stalling too often, so every accepted task
 * still reaches a terminal state. Queue events come only from consumers of
 * the same queue object, so this covers in-process consumers; worker
 * processes send theirs to `storeJobEnd` through the pool.
 */
export function reconcileQueueFailures<T>(
  queue: TaskQueue<T>,
  store: TaskStore,
  clock: Clock,
  hooks: JobEndHooks = {},
): void {
  queue.on('failed', ({ id, error, data }) =>
    storeJobEnd(store, clock, { id, state: 'failed', message: error.message, data }, hooks),
  );
  queue.on('deadLettered', ({ id, error, data }) =>
    storeJobEnd(store, clock, { id, state: 'dead_lettered', message: error.message, data }, hooks),
  );
}

/**
 * Stores the terminal state of a job the queue ended, releases the admission
 * ticket its payload carries, and calls `onStored` with the record. The
 * record's cost, what earlier failed deliveries spent, was charged to the
 * ticket when each of them failed. A task already terminal keeps its state,
 * and its ticket stays as its finisher left it, so neither hook is called.
 * A failed store write leaves the task and its ticket as they were and goes
 * to `onError`, as does an error of a hook.
 *
 * NOTE: a handler that lost its job lock may still be running when the queue
 * ends the job. Its tenant then gets the in-flight slot back early, and the
 * cost of that run is not charged, since its later settle finds the ticket
 * closed. The alternative, a ticket held until its TTL, costs the tenant the
 * slot and the reservation for a day. A delivery whose worker process died
 * is missing from the record and the ledger here, because a release reports no
 * run charges, unlike the settle of a delivery that ends the task. The tenant's
 * spend keeps what it charged, its failed attempts and finished steps, but not
 * the call it was in.
 */
export function storeJobEnd(
  store: TaskStore,
  clock: Clock,
  event: JobEndedEvent,
  hooks: JobEndHooks = {},
): void {
  const code = event.state === 'failed' ? 'queue_failed' : 'dead_lettered';
  const error = { code, message: event.message };
  const completion = { state: event.state, finishedAt: clock.now(), error };
  const reportError = (cause: unknown) => hooks.onError?.(cause, event);
  store
    .completeAndRead(event.id, completion)
    .then((read) => {
      if (!read.stored) return;
      const ticket = ticketOf(event.data);
      if (ticket !== undefined) {
        hooks.admission?.release(ticket).catch(reportError);
        // The handler frees its slot when it returns, but a job the queue ended, such as one
        // whose worker was killed, has no handler left to do so.
        hooks.runSlots?.release(ticket.tenantId, event.id).catch(reportError);
      }
      if (read.record !== undefined) hooks.onStored?.(read.record);
    })
    .catch(reportError);
}

/** Returns the admission ticket of a queued task's payload, or undefined when it has none. */
export function ticketOf(data: unknown): AdmissionTicket | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const ticket = (data as { ticket?: unknown }).ticket;
  if (typeof ticket !== 'object' || ticket === null) return undefined;
  const { id, tenantId, reservedUsd, tokens } = ticket as Record<string, unknown>;
  const valid =
    typeof id === 'string' &&
    typeof tenantId === 'string' &&
    typeof reservedUsd === 'number' &&
    typeof tokens === 'number';
  return valid ? { id, tenantId, reservedUsd, tokens } : undefined;
}
