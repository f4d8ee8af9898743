import type { Clock } from '../clock.js';
import type { ExecutionJob, ExecutionOutcome, SyncExecutor } from '../gateway/ports.js';
import { describeFailure } from './failure.js';
import type { ModelRouterPort } from './model-router.js';
import type { TaskFinisher } from './task-finisher.js';
import { runAgentTask } from './task-runner.js';

export interface DirectExecutorOptions {
  router: ModelRouterPort;
  finisher: TaskFinisher;
  clock: Clock;
}

/** Runs sync tasks in the gateway process itself, with no executor cost. */
export class DirectExecutor implements SyncExecutor {
  readonly name = 'direct';
  readonly #options: DirectExecutorOptions;

  constructor(options: DirectExecutorOptions) {
    this.#options = options;
  }

  async execute(job: ExecutionJob): Promise<ExecutionOutcome> {
    const { router, finisher, clock } = this.#options;
    const { task, ticket } = job;
    await finisher.start(task);
    try {
      const context = {
        tenantId: task.tenantId,
        router,
        clock,
        signal: job.signal,
        onToken: job.onToken,
      };
      const run = await runAgentTask(task.request, context);
      return { record: await finisher.succeed(task, ticket, run, 0) };
    } catch (error) {
      const failure = describeFailure(error);
      const record = await finisher.fail(task, ticket, {
        code: failure.code,
        message: failure.message,
      });
      return { record, failure };
    }
  }
}
