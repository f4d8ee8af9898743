import type { AdmissionTicket, RunSpend } from '../admission/types.js';
import type { Clock } from '../clock.js';
import type { TaskStore } from '../store/task-store.js';
import type { TaskError, TaskRecord, TerminalState } from '../task.js';
import type { TaskRunOutput } from './task-runner.js';
import { type TicketCharger, TicketSpend } from './ticket-spend.js';

/** The settle and charge side of admission; an AdmissionBackend fits. */
export interface TicketCloser extends TicketCharger {
  settle(ticket: AdmissionTicket, spend: RunSpend): Promise<unknown>;
  release(ticket: AdmissionTicket): Promise<unknown>;
}

/** Costs of one run of a task, in US dollars; each part defaults to 0. */
export interface RunCosts {
  /** Executor time, such as a serverless invocation's. */
  executorUsd?: number;
  /** Tokens of a failed run's provider calls; a finished run carries its own. */
  tokenUsd?: number;
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
  /** Called when charging a ticket fails; the task goes on. @defaultValue none */
  onChargeError?: (error: unknown, ticket: AdmissionTicket) => void;
}

/**
 * Moves tasks through the store and closes their admission tickets: settle
 * with the real cost after success, release after failure. The ticket and the
 * store are written concurrently, so on one auto-pipelined Redis client both
 * commands go out in one write.
 * NOTE: these writes have no time limit, unlike the gateway's own store calls, so a
 * sync task that ends while Redis does not reply keeps its client waiting until Redis replies
 * or the connection fails.
 */
export class TaskFinisher {
  readonly #options: TaskFinisherOptions;

  constructor(options: TaskFinisherOptions) {
    this.#options = options;
  }

  /**
   * Returns a charger of one run's spend to `ticket`, which checks the budget before
   * retries. `run` is the queue delivery's number, or 1 for a task that runs once.
   */
  ticketSpend(ticket: AdmissionTicket, run = 1): TicketSpend {
    return new TicketSpend(this.#options.admission, ticket, run, this.#options.onChargeError);
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
   * Settles the ticket and stores the success, concurrently. The stored cost adds
   * this run to the record's `costUsd`, which is what earlier failed deliveries
   * of the task spent. Those deliveries charged the ticket already, and the settle
   * leaves out what `spend` charged for this run. Returns the task as stored, or
   * the earlier record when it was already terminal. Rejects when either write
   * rejects, after both have finished, so the other write may have been applied.
   */
  async succeed(
    task: TaskRecord,
    spend: TicketSpend,
    run: TaskRunOutput,
    costs: Pick<RunCosts, 'executorUsd'> = {},
  ): Promise<TaskRecord> {
    const { executorUsd = 0 } = costs;
    const runUsd = run.tokenCostUsd + executorUsd;
    const costUsd = (task.costUsd ?? 0) + runUsd;
    const completion = { state: 'succeeded' as const, result: run.result, costUsd };
    return awaitTicketAndRecord(
      this.#options.admission.settle(spend.ticket, { run: spend.run, spentUsd: runUsd }),
      this.#complete(task, completion, executorUsd),
    );
  }

  /**
   * Stores a failure and settles the ticket, concurrently. The stored cost is what
   * the task cost before it failed: the record's `costUsd` from earlier failed
   * deliveries, plus this run's executor time and the tokens its provider calls
   * spent. The settle charges the part of this run's cost that `spend` has not
   * charged. Returns and rejects as `succeed` does.
   */
  async fail(
    task: TaskRecord,
    spend: TicketSpend,
    error: TaskError,
    state: Exclude<TerminalState, 'succeeded'> = 'failed',
    costs: RunCosts = {},
  ): Promise<TaskRecord> {
    const { executorUsd = 0, tokenUsd = 0 } = costs;
    const runUsd = executorUsd + tokenUsd;
    const costUsd = (task.costUsd ?? 0) + runUsd;
    const completion = { state, error, costUsd };
    return awaitTicketAndRecord(
      this.#options.admission.settle(spend.ticket, { run: spend.run, spentUsd: runUsd }),
      this.#complete(task, completion, executorUsd),
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
