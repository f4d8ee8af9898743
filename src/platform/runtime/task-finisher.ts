import type { AdmissionTicket } from '../admission/types.js';
import type { Clock } from '../clock.js';
import type { TaskStore } from '../store/task-store.js';
import type { TaskError, TaskRecord, TerminalState } from '../task.js';
import type { TaskRunOutput } from './task-runner.js';

/** The settle side of admission; an AdmissionBackend fits. */
export interface TicketCloser {
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
 * with the real cost after success, release after failure.
 */
export class TaskFinisher {
  readonly #options: TaskFinisherOptions;

  constructor(options: TaskFinisherOptions) {
    this.#options = options;
  }

  /** Marks the task running; returns undefined when it is already terminal. */
  start(task: TaskRecord): Promise<TaskRecord | undefined> {
    return this.startById(task.id);
  }

  /** Marks the task with this id running and returns it; undefined when unknown or terminal. */
  startById(id: string): Promise<TaskRecord | undefined> {
    return this.#options.store.markRunning(id, this.#options.clock.now());
  }

  async succeed(
    task: TaskRecord,
    ticket: AdmissionTicket,
    run: TaskRunOutput,
    executorCostUsd: number,
  ): Promise<TaskRecord> {
    const costUsd = run.tokenCostUsd + executorCostUsd;
    await this.#options.admission.settle(ticket, costUsd);
    const completion = { state: 'succeeded' as const, result: run.result, costUsd };
    return this.#complete(task, completion, executorCostUsd);
  }

  /**
   * Stores a failure and releases the reservation.
   * NOTE: tokens a provider streamed before failing are not charged to the tenant's budget.
   */
  async fail(
    task: TaskRecord,
    ticket: AdmissionTicket,
    error: TaskError,
    state: Exclude<TerminalState, 'succeeded'> = 'failed',
    executorCostUsd = 0,
  ): Promise<TaskRecord> {
    await this.#options.admission.release(ticket);
    const completion = { state, error, costUsd: executorCostUsd };
    return this.#complete(task, completion, executorCostUsd);
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
