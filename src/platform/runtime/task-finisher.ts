import type { AdmissionTicket, RunSpend, Settlement } from '../admission/types.js';
import type { Clock } from '../clock.js';
import { addUsd, roundUsd } from '../cost/usd.js';
import type { TaskStore } from '../store/task-store.js';
import type { TaskError, TaskRecord, TerminalState, TokenUsage } from '../task.js';
import { addUsage, billedUsageOf } from './billed-usage.js';
import type { TaskRunOutput } from './task-runner.js';
import { type TicketCharger, TicketSpend } from './ticket-spend.js';

/** The settle and charge side of admission; an AdmissionBackend fits. */
export interface TicketCloser extends TicketCharger {
  settle(
    ticket: AdmissionTicket,
    spend: RunSpend,
    earlierRuns?: readonly RunSpend[],
  ): Promise<Settlement>;
  release(ticket: AdmissionTicket): Promise<Settlement>;
}

/** Costs of one run of a task, in US dollars; each part defaults to 0. */
export interface RunCosts {
  /** Executor time, such as a serverless invocation's. */
  executorUsd?: number;
  /** Tokens of a failed run's provider calls; a finished run carries its own. */
  tokenUsd?: number;
  /** The tokens that `tokenUsd` prices, as the providers bill them. @defaultValue none */
  tokenUsage?: TokenUsage;
}

/** A task that reached a terminal state, with its executor's share of the cost. */
export interface FinishedTask {
  record: TaskRecord;
  executorCostUsd: number;
  /**
   * For a failed task, the tokens its token cost pays for: its last run's billed tokens, and
   * the tokens of the checkpoint's steps when the cost counts them. Absent for a succeeded
   * task, and for a failure stored without `RunCosts.tokenUsage`.
   */
  spentUsage?: TokenUsage;
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
 * Moves tasks through the store and settles their admission tickets with the
 * real cost. For a task's first run the ticket and the store are written
 * concurrently, so on one auto-pipelined Redis client both commands go out in
 * one write. A later run settles first, because the stored cost adds what the
 * settle reports for earlier runs.
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
   * Settles the ticket and stores the success. The stored cost adds this run to the
   * record's `costUsd`, which is what earlier deliveries that went back to the queue
   * spent. It also adds the charges of earlier runs that the record lacks, such as a
   * run whose process was killed. The settle leaves out what `spend` charged for this run,
   * and charges each earlier run in the record's `deliveryCosts` up to its cost. Returns
   * the task as stored, or the earlier record when it was already terminal. Rejects
   * when either write rejects, after both have finished, so the other write may have
   * been applied.
   */
  async succeed(
    task: TaskRecord,
    spend: TicketSpend,
    run: TaskRunOutput,
    costs: Pick<RunCosts, 'executorUsd'> = {},
  ): Promise<TaskRecord> {
    const { executorUsd = 0 } = costs;
    const runUsd = addUsd(run.tokenCostUsd, executorUsd);
    const completion = { state: 'succeeded' as const, result: run.result };
    const totals = { runUsd, executorCostUsd: executorUsd, tokenUsage: undefined };
    return this.#settleAndComplete(task, spend, totals, completion);
  }

  /**
   * Settles the ticket and stores a failure. The stored cost is what the task cost
   * before it failed: the record's `costUsd` from earlier deliveries, the charges of
   * earlier runs it lacks, and this run's executor time and the tokens its provider
   * calls spent. The settle charges the part of this run's cost that `spend` has not
   * charged. The finished task's `spentUsage` adds `costs.tokenUsage` and, for a resumed
   * run, the checkpoint's steps when the stored cost counts what they cost. Returns and
   * rejects as `succeed` does.
   */
  async fail(
    task: TaskRecord,
    spend: TicketSpend,
    error: TaskError,
    state: Exclude<TerminalState, 'succeeded'> = 'failed',
    costs: RunCosts = {},
  ): Promise<TaskRecord> {
    const { executorUsd = 0, tokenUsd = 0, tokenUsage } = costs;
    const runUsd = addUsd(executorUsd, tokenUsd);
    const totals = { runUsd, executorCostUsd: executorUsd, tokenUsage };
    return this.#settleAndComplete(task, spend, totals, { state, error });
  }

  /** Settles `spend`'s run at `run.runUsd` and stores the completion with the task's whole cost. */
  async #settleAndComplete(
    task: TaskRecord,
    spend: TicketSpend,
    run: RunTotals,
    completion: Omit<Completion, 'costUsd'>,
  ): Promise<TaskRecord> {
    const { admission } = this.#options;
    const runSpend = { run: spend.run, spentUsd: run.runUsd };
    const recordedUsd = addUsd(task.costUsd ?? 0, run.runUsd);
    if (spend.run === 1) {
      // A first run has no earlier run to add, so both writes go out together.
      const finished = { executorCostUsd: run.executorCostUsd, spentUsage: run.tokenUsage };
      return awaitTicketAndRecord(
        admission.settle(spend.ticket, runSpend),
        this.#complete(task, { ...completion, costUsd: recordedUsd }, finished),
      );
    }
    const settling = admission.settle(spend.ticket, runSpend, earlierRunsOf(task));
    // A failed settle reports no charges, so the stored cost leaves out unrecorded runs.
    const settlement = await settling.catch(() => undefined);
    const runs = settlement?.runs ?? [];
    const uncountedUsd = uncountedSpendUsd(task, runs, spend.run);
    const costUsd = addUsd(recordedUsd, uncountedUsd);
    const finished = {
      executorCostUsd: run.executorCostUsd,
      spentUsage: resumedSpentUsage(task, spend.run, run.tokenUsage, runs.length > 0),
    };
    return awaitTicketAndRecord(
      settling,
      this.#complete(task, { ...completion, costUsd }, finished),
    );
  }

  async #complete(
    task: TaskRecord,
    completion: Completion,
    finished: Omit<FinishedTask, 'record'>,
  ): Promise<TaskRecord> {
    const { store, clock, onFinished } = this.#options;
    const read = await store.completeAndRead(task.id, { ...completion, finishedAt: clock.now() });
    const record = read.record ?? task;
    // A completion that the Redis client resent after losing the reply still reads as stored,
    // so its ledger entry and metrics are recorded once.
    if (read.stored) onFinished?.(withoutUndefined({ record, ...finished }));
    return record;
  }
}

/** The costs of the run that ends a task, in US dollars, and the tokens it spent. */
interface RunTotals {
  /** Token and executor cost of the run. */
  runUsd: number;
  executorCostUsd: number;
  /** The billed tokens of a failed run; undefined for a succeeded one. */
  tokenUsage: TokenUsage | undefined;
}

/**
 * Returns the tokens a failed resumed run's task cost pays for: `runUsage` plus the billed
 * tokens of the checkpoint the run resumed from, when the stored cost counts the runs that
 * finished its steps. It counts them when the settle reported the ticket's charges of each
 * run (`chargesRead`), or when every run before `run` is in the record's `deliveryCosts`.
 */
function resumedSpentUsage(
  task: TaskRecord,
  run: number,
  runUsage: TokenUsage | undefined,
  chargesRead: boolean,
): TokenUsage | undefined {
  const { checkpoint } = task;
  if (runUsage === undefined || checkpoint === undefined) return runUsage;
  const recorded = new Set(task.deliveryCosts?.map((entry) => entry.delivery));
  let counted = true;
  for (let earlier = 1; earlier < run; earlier += 1) counted &&= recorded.has(earlier);
  if (!counted && !chargesRead) return runUsage;
  return addUsage(runUsage, billedUsageOf(checkpoint.result));
}

/** Returns the finished task without a `spentUsage` that is undefined. */
function withoutUndefined(finished: FinishedTask): FinishedTask {
  if (finished.spentUsage !== undefined) return finished;
  const { spentUsage: _spentUsage, ...rest } = finished;
  return rest;
}

/** The fields of a task's terminal state that the finisher stores. */
interface Completion {
  state: TerminalState;
  result?: TaskRecord['result'];
  error?: TaskError;
  costUsd: number;
}

/** Returns the runs whose cost the task record counts, as the spend to settle them with. */
export function earlierRunsOf(task: TaskRecord): RunSpend[] {
  const spent = (task.deliveryCosts ?? []).filter((entry) => entry.costUsd > 0);
  return spent.map(({ delivery, costUsd }) => ({ run: delivery, spentUsd: costUsd }));
}

/**
 * Returns what a closed ticket took for its task's runs, `run` left out, beyond the cost
 * the task record counts for each of them, such as the steps a killed run charged before
 * it died.
 * @param runs The run charges that `settle` or `release` reported.
 * @param run A run whose cost the caller counts itself. @defaultValue none
 */
export function uncountedSpendUsd(
  task: TaskRecord,
  runs: readonly RunSpend[],
  run?: number,
): number {
  const counted = new Map(task.deliveryCosts?.map((entry) => [entry.delivery, entry.costUsd]));
  let uncountedUsd = 0;
  for (const charged of runs) {
    if (charged.run === run) continue;
    const beyondUsd = roundUsd(charged.spentUsd - (counted.get(charged.run) ?? 0));
    uncountedUsd = addUsd(uncountedUsd, Math.max(0, beyondUsd));
  }
  return uncountedUsd;
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
