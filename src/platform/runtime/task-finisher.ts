import type { AdmissionTicket } from '../admission/types.js';
import type { Clock } from '../clock.js';
import type { TaskStore } from '../store/task-store.js';
import type { TaskError, TaskRecord, TerminalState } from '../task.js';
import type { TaskRunOutput } from './task-runner.js';
import { type TicketCharger, TicketSpend } from './ticket-spend.js';

/** The settle and charge side of admission; an AdmissionBackend fits. */
export interface TicketCloser extends TicketCharger {
  settle(ticket: AdmissionTicket, actualCostUsd: number): Promise<unknown>;
  release(ticket: AdmissionTicket): Promise<unknown>;
}

/** A task that reached a terminal state, with its executor's share of the cost. */
export interface FinishedTask {
  record: TaskRecord;
  executorCostUsd: number;
}

export interface TaskFinisherOptions {
  store: TaskStore;
  admission: TicketCloser;
  clock: Clock;
  /** Called once per task when its terminal state is stored; the cost ledger listens here. */
  onFinished?: (finished: FinishedTask) => void;
}

/**
 * Moves tasks through the store and closes their admission tickets: settle
 * with the real cost after success, release after failure. The ticket and the
 * store are written concurrently, so on one auto-pipelined Redis client both
 * commands go out in one write.
 */
export class TaskFinisher {
  readonly #options: TaskFinisherOptions;

  constructor(options: TaskFinisherOptions) {
    this.#options = options;
  }

  /** Returns a charger of one delivery's spend to `ticket`, which checks the budget before retries. */
  ticketSpend(ticket: AdmissionTicket): TicketSpend {
    return new TicketSpend(this.#options.admission, ticket);
  }

  /** Marks the task running; returns undefined when it is already terminal. */
  start(task: TaskRecord): Promise<TaskRecord | undefined> {
    return this.startById(task.id);
  }

  /** Marks the task with this id running and returns it; undefined when unknown or terminal. */
  startById(id: string): Promise<TaskRecord | undefined> {
    return this.#options.store.markRunning(id, this.#options.clock.now());
  }

  /**
   * Settles the ticket with the task's cost and stores the success, concurrently.
   * The cost adds this run to the record's `costUsd`, which is what earlier
   * failed deliveries of the task spent. Returns the task as stored, or the
   * earlier record when it was already terminal. Rejects when either write
   * rejects, after both have finished, so the other write may have been applied.
   */
  async succeed(
    task: TaskRecord,
    ticket: AdmissionTicket,
    run: TaskRunOutput,
    executorCostUsd: number,
  ): Promise<TaskRecord> {
    const costUsd = (task.costUsd ?? 0) + run.tokenCostUsd + executorCostUsd;
    const completion = { state: 'succeeded' as const, result: run.result, costUsd };
    return awaitTicketAndRecord(
      this.#options.admission.settle(ticket, costUsd),
      this.#complete(task, completion, executorCostUsd),
    );
  }

  /**
   * Stores a failure and closes the ticket, concurrently: settled with what the
   * task cost before it failed, or released when that is nothing. That cost is
   * the record's `costUsd` from earlier failed deliveries, plus this run's
   * executor time and the tokens its provider calls spent. Returns and rejects
   * as `succeed` does.
   */
  async fail(
    task: TaskRecord,
    ticket: AdmissionTicket,
    error: TaskError,
    state: Exclude<TerminalState, 'succeeded'> = 'failed',
    executorCostUsd = 0,
    tokenCostUsd = 0,
  ): Promise<TaskRecord> {
    const costUsd = (task.costUsd ?? 0) + executorCostUsd + tokenCostUsd;
    const { admission } = this.#options;
    const completion = { state, error, costUsd };
    return awaitTicketAndRecord(
      costUsd > 0 ? admission.settle(ticket, costUsd) : admission.release(ticket),
      this.#complete(task, completion, executorCostUsd),
    );
  }

  async #complete(
    task: TaskRecord,
    completion: {
      state: TerminalState;
      result?: TaskRecord['result'];
      error?: TaskError;
      costUsd: number;
    },
    executorCostUsd: number,
  ): Promise<TaskRecord> {
    const { store, clock, onFinished } = this.#options;
    const read = await store.completeAndRead(task.id, { ...completion, finishedAt: clock.now() });
    const record = read.record ?? task;
    if (read.stored) onFinished?.({ record, executorCostUsd });
    return record;
  }
}

/**
 * Waits for both the ticket and the store write, then returns the stored record
 * or throws the first rejection, the ticket's before the store's.
 */
async function awaitTicketAndRecord(
  ticketClosed: Promise<unknown>,
  stored: Promise<TaskRecord>,
): Promise<TaskRecord> {
  const [ticket, record] = await Promise.allSettled([ticketClosed, stored]);
  if (ticket.status === 'rejected') throw ticket.reason;
  if (record.status === 'rejected') throw record.reason;
  return record.value;
}
