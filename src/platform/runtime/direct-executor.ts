import type { Clock } from '../clock.js';
import type { ExecutionJob, ExecutionOutcome, SyncExecutor } from '../gateway/ports.js';
import { isUnavailableError, tenantUnavailableReason } from '../gateway/unavailable.js';
import type { TaskRecord } from '../task.js';
import { billedUsageOf } from './billed-usage.js';
import { describeFailure, SEND_AGAIN_WITH_NEW_KEY, taskErrorOf } from './failure.js';
import { type ModelRouterPort, spentTokenCostOf, spentUsageOf } from './model-router.js';
import { runWithLimits } from './run-limits.js';
import type { RunCosts, TaskFinisher } from './task-finisher.js';
import { runAgentTask, type TaskRunOutput } from './task-runner.js';
import type { TicketSpend } from './ticket-spend.js';

export interface DirectExecutorOptions {
  router: ModelRouterPort;
  finisher: TaskFinisher;
  clock: Clock;
  /** Aborted when the platform stops waiting for running tasks. @defaultValue none */
  shutdown?: AbortSignal;
}

/** Runs sync tasks in the gateway process itself, with no executor cost. */
export class DirectExecutor implements SyncExecutor {
  readonly name = 'direct';
  readonly #options: DirectExecutorOptions;

  constructor(options: DirectExecutorOptions) {
    this.#options = options;
  }

  async execute(job: ExecutionJob): Promise<ExecutionOutcome> {
    let stored = false;
    try {
      const outcome = await this.#run(job);
      stored = true;
      return outcome;
    } finally {
      job.onEnded?.(stored);
    }
  }

  async #run(job: ExecutionJob): Promise<ExecutionOutcome> {
    const { router, finisher, clock } = this.#options;
    const { task, ticket } = job;
    await finisher.start(task);
    const spend = finisher.ticketSpend(ticket);
    let run: TaskRunOutput;
    try {
      const limits = { clock, signal: job.signal, shutdown: this.#options.shutdown };
      run = await runWithLimits(limits, (signal) =>
        runAgentTask(task.request, {
          tenantId: task.tenantId,
          router,
          clock,
          signal,
          onToken: job.onToken,
          ...spend.runHooks(),
        }),
      );
    } catch (error) {
      const failure = describeFailure(error);
      const costs = { tokenUsd: spentTokenCostOf(error), tokenUsage: spentUsageOf(error) };
      const record = await finisher.fail(task, spend, taskErrorOf(failure), 'failed', costs);
      return { record, failure };
    }
    return succeedOrStoreFailure(finisher, task, spend, run);
  }
}

/**
 * Stores a finished run's success. When the store did not reply, it stores the end as
 * failed `store_unavailable` instead, with the run's cost, because the client then gets that
 * error. A task whose success was stored in spite of the error keeps it, and the client gets
 * the result. Rejects when the failure cannot be stored either.
 */
export async function succeedOrStoreFailure(
  finisher: TaskFinisher,
  task: TaskRecord,
  spend: TicketSpend,
  run: TaskRunOutput,
  costs: Pick<RunCosts, 'executorUsd'> = {},
): Promise<ExecutionOutcome> {
  try {
    return { record: await finisher.succeed(task, spend, run, costs) };
  } catch (error) {
    if (!isUnavailableError(error)) throw error;
    const failure = {
      status: 503,
      code: 'store_unavailable',
      message: `storing the task's result failed, because Redis did not reply (${tenantUnavailableReason(error)}); ${SEND_AGAIN_WITH_NEW_KEY}`,
    };
    // A sync task never resumes, so the run's result has only the steps this run paid for.
    const record = await finisher.fail(task, spend, taskErrorOf(failure), 'failed', {
      ...costs,
      tokenUsd: run.tokenCostUsd,
      tokenUsage: billedUsageOf(run.result),
    });
    return record.state === 'succeeded' ? { record } : { record, failure };
  }
}
