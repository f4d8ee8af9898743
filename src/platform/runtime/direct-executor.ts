import type { Clock } from '../clock.js';
import type { ExecutionJob, ExecutionOutcome, SyncExecutor } from '../gateway/ports.js';
import { describeFailure, taskErrorOf } from './failure.js';
import { type ModelRouterPort, spentTokenCostOf } from './model-router.js';
import { runWithLimits } from './run-limits.js';
import type { TaskFinisher } from './task-finisher.js';
import { runAgentTask } from './task-runner.js';

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
    try {
      return await this.#run(job);
    } finally {
      job.onEnded?.();
    }
  }

  async #run(job: ExecutionJob): Promise<ExecutionOutcome> {
    const { router, finisher, clock } = this.#options;
    const { task, ticket } = job;
    await finisher.start(task);
    const spend = finisher.ticketSpend(ticket);
    try {
      const limits = { clock, signal: job.signal, shutdown: this.#options.shutdown };
      const run = await runWithLimits(limits, (signal) =>
        runAgentTask(task.request, {
          tenantId: task.tenantId,
          router,
          clock,
          signal,
          onToken: job.onToken,
          ...spend.runHooks(),
        }),
      );
      return {
        record: await finisher.succeed(task, spend, run),
      };
    } catch (error) {
      const failure = describeFailure(error);
      const costs = { tokenUsd: spentTokenCostOf(error) };
      const record = await finisher.fail(task, spend, taskErrorOf(failure), 'failed', costs);
      return { record, failure };
    }
  }
}
