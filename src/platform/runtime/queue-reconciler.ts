import type { RunSlots } from '../admission/run-slots.js';
import type { AdmissionTicket } from '../admission/types.js';
import type { Clock } from '../clock.js';
import { addUsd } from '../cost/usd.js';
import type { JobEndedEvent } from '../executors/worker-protocol.js';
import type { TaskQueue } from '../queue/index.js';
import { isTerminal, type TaskStore } from '../store/task-store.js';
import type { TaskRecord } from '../task.js';
import { earlierRunsOf, type TicketCloser, uncountedSpendUsd } from './task-finisher.js';

/** Hooks around storing the terminal state of a job the queue ended. */
export interface JobEndHooks {
  /** Admission backend that closes the ticket in the job's payload. */
  admission?: Pick<TicketCloser, 'settle'>;
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
 * Stores the terminal state of a job the queue ended, closes the admission
 * ticket its payload carries, and calls `onStored` with the record. The ticket
 * closes first, with no spend for the last run, because the settle reports what
 * each run charged. The stored cost adds to the record's `costUsd` any charge
 * the record does not count, such as a step of a run whose worker process was
 * killed. The settle also charges each requeued run up to its recorded cost,
 * which a failed charge may have left out. After a failed settle the record
 * keeps its cost. A task already terminal keeps its state and its ticket, and
 * neither hook is called. A failed store write or hook goes to `onError`.
 *
 * NOTE: a handler that lost its job lock may still be running when the queue
 * ends the job. Its tenant then gets the in-flight slot back early, and the
 * cost of that run is not charged, since its later settle finds the ticket
 * closed. The alternative, a ticket held until its TTL, costs the tenant the
 * slot and the reservation for a day. The provider call a killed run was in
 * is charged nowhere.
 */
export function storeJobEnd(
  store: TaskStore,
  clock: Clock,
  event: JobEndedEvent,
  hooks: JobEndHooks = {},
): void {
  const reportError = (cause: unknown) => hooks.onError?.(cause, event);
  endJob(store, clock, event, hooks, reportError).catch(reportError);
}

/** Closes the job's ticket, then stores the task's terminal state; see {@link storeJobEnd}. */
async function endJob(
  store: TaskStore,
  clock: Clock,
  event: JobEndedEvent,
  hooks: JobEndHooks,
  reportError: (cause: unknown) => void,
): Promise<void> {
  const task = await store.getById(event.id);
  if (task === undefined || isTerminal(task.state)) return;
  const ticket = ticketOf(event.data);
  let costUsd = task.costUsd;
  if (ticket !== undefined && hooks.admission !== undefined) {
    try {
      const lastRun = { run: Math.max(1, task.deliveries), spentUsd: 0 };
      const closed = await hooks.admission.settle(ticket, lastRun, earlierRunsOf(task));
      const uncountedUsd = uncountedSpendUsd(task, closed.runs);
      if (uncountedUsd > 0) costUsd = addUsd(task.costUsd ?? 0, uncountedUsd);
    } catch (error) {
      reportError(error);
    }
  }
  const code = event.state === 'failed' ? 'queue_failed' : 'dead_lettered';
  const completion = {
    state: event.state,
    finishedAt: clock.now(),
    error: { code, message: jobEndMessage(event.message) },
    ...(costUsd === undefined ? {} : { costUsd }),
  };
  const read = await store.completeAndRead(event.id, completion);
  if (!read.stored) return;
  if (ticket !== undefined) {
    // The handler frees its slot when it returns, but a job the queue ended, such as one
    // whose worker was killed, has no handler left to do so.
    hooks.runSlots?.release(ticket.tenantId, event.id).catch(reportError);
  }
  if (read.record !== undefined) hooks.onStored?.(read.record);
}

/** BullMQ's reason for a job that stalled more often than its `maxStalledCount` allows. */
const STALL_LIMIT_REASON = 'job stalled more than allowable limit';

/**
 * Returns the task error message for a queue's reason to end a job. BullMQ's stall reason
 * names neither the cause nor a next step, so it gets both, and keeps its own words.
 */
function jobEndMessage(reason: string): string {
  if (reason !== STALL_LIMIT_REASON) return reason;
  return (
    'the worker process running the task stopped before it ended, killed or unresponsive ' +
    "past its job lock, more often than the queue's stall limit allows, so the queue " +
    `failed it; resend the task with a new Idempotency-Key (queue: ${reason})`
  );
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
