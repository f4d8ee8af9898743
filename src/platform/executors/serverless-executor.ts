import type { Clock } from '../clock.js';
import type { ExecutionJob, ExecutionOutcome, SyncExecutor } from '../gateway/ports.js';
import { describeFailure, taskErrorOf } from '../runtime/failure.js';
import { type ModelRouterPort, spentTokenCostOf, spentUsageOf } from '../runtime/model-router.js';
import type { TaskFinisher } from '../runtime/task-finisher.js';
import { succeedOrStoreFailure } from '../runtime/direct-executor.js';
import { runWithLimits } from '../runtime/run-limits.js';
import type { TicketSpend } from '../runtime/ticket-spend.js';
import type { TaskRunOutput } from '../runtime/task-runner.js';
import { runAgentTask } from '../runtime/task-runner.js';
import type { InvocationCompletion, InvocationContext } from './serverless.js';
import { ServerlessEmulator } from './serverless.js';
import { isServerlessError, ServerlessError } from './serverless-errors.js';
import type { ServerlessOptions } from './serverless-options.js';

export interface ServerlessExecutorOptions {
  router: ModelRouterPort;
  finisher: TaskFinisher;
  clock: Clock;
  /** Receives an error from recording a task that ended after its client had timed out. */
  onLateError?: (error: unknown) => void;
  /** Emulator settings; its clock defaults to `clock`. */
  emulator?: ServerlessOptions;
  /**
   * Aborted when the platform stops waiting for running tasks, so a running invocation
   * fails with `platform_shutdown`. @defaultValue none
   */
  shutdown?: AbortSignal;
}

/**
 * Runs sync tasks as invocations of an emulated serverless function. The
 * function records the task's end itself, so after an integration timeout
 * the client gets a 504 while the task runs on to a terminal state and is
 * billed, as a function behind an API gateway does.
 */
export class ServerlessExecutor implements SyncExecutor {
  readonly name = 'serverless';
  readonly emulator: ServerlessEmulator<ExecutionJob, TaskRunOutput>;
  readonly #options: ServerlessExecutorOptions;
  /** The spend charger of each running invocation's job, so its settle leaves the charges out. */
  readonly #spends = new Map<ExecutionJob, TicketSpend>();

  constructor(options: ServerlessExecutorOptions) {
    this.#options = options;
    const handler = (job: ExecutionJob, context: InvocationContext) => this.#handle(job, context);
    this.emulator = new ServerlessEmulator(handler, { clock: options.clock, ...options.emulator });
  }

  /** Time the API gateway waits for a sync response before it sends the client a 504. */
  get integrationTimeoutMs(): number {
    return this.emulator.options.integrationTimeoutMs;
  }

  /**
   * @throws ServerlessError `integration_timeout` when the client stops waiting; its
   *   message names the task, which keeps running, and how to read its result.
   */
  async execute(job: ExecutionJob): Promise<ExecutionOutcome> {
    // False once the client stopped waiting: the task then ends after this returns.
    let endsHere = true;
    let stored = false;
    try {
      await this.#options.finisher.start(job.task);
      this.#spends.set(job, this.#options.finisher.ticketSpend(job.ticket));
      const { response, completion } = this.emulator.start(job);
      const finished = completion.then((outcome) => this.#finish(job, outcome));
      try {
        await response;
      } catch (error) {
        if (isServerlessError(error) && error.code === 'integration_timeout') {
          endsHere = false;
          finished.then(
            () => job.onEnded?.(true),
            (lateError: unknown) => {
              this.#options.onLateError?.(lateError);
              job.onEnded?.(false);
            },
          );
          throw integrationTimeoutError(job.task.id, this.integrationTimeoutMs, error);
        }
      }
      const outcome = await finished;
      stored = true;
      return outcome;
    } finally {
      if (endsHere) job.onEnded?.(stored);
    }
  }

  close(): void {
    this.emulator.close();
  }

  #handle(job: ExecutionJob, context: InvocationContext): Promise<TaskRunOutput> {
    const signals = job.signal === undefined ? [context.signal] : [context.signal, job.signal];
    const spend = this.#spends.get(job) ?? this.#options.finisher.ticketSpend(job.ticket);
    const { router, clock, shutdown } = this.#options;
    const limits = { clock, shutdown, signal: AbortSignal.any(signals) };
    return runWithLimits(limits, (signal) =>
      runAgentTask(job.task.request, {
        tenantId: job.task.tenantId,
        router,
        clock,
        signal,
        onToken: job.onToken,
        ...spend.runHooks(),
      }),
    );
  }

  async #finish(
    job: ExecutionJob,
    outcome: InvocationCompletion<TaskRunOutput>,
  ): Promise<ExecutionOutcome> {
    const { finisher } = this.#options;
    const spend = this.#spends.get(job) ?? finisher.ticketSpend(job.ticket);
    this.#spends.delete(job);
    if (outcome.ok) {
      const { value, costUsd } = outcome.result;
      return succeedOrStoreFailure(finisher, job.task, spend, value, { executorUsd: costUsd });
    }
    const failure = describeFailure(outcome.error);
    // The stored error keeps the attempts, as the other executors' do, so the ledger entry
    // names the provider and model of the failed call.
    const error = taskErrorOf(failure);
    const costs = {
      executorUsd: outcome.costUsd,
      tokenUsd: spentTokenCostOf(outcome.error),
      tokenUsage: spentUsageOf(outcome.error),
    };
    const record = await finisher.fail(job.task, spend, error, 'failed', costs);
    return { record, failure };
  }
}

/** Builds the error a client gets at the integration timeout while its task keeps running. */
function integrationTimeoutError(
  taskId: string,
  timeoutMs: number,
  cause: ServerlessError,
): ServerlessError {
  const message =
    `integration timed out after ${timeoutMs} ms, but task ${taskId} keeps running and is billed; ` +
    `read its result with GET /v1/tasks/${taskId}. ` +
    `Send mode async for tasks that may run longer than ${timeoutMs} ms.`;
  return new ServerlessError('integration_timeout', message, undefined, { cause });
}
