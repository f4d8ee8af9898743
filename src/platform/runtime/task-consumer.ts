import type { Clock } from '../clock.js';
import type { QueuedTaskData } from '../gateway/ports.js';
import { type JobHandler, NonRetryableError, type QueueJob } from '../queue/index.js';
import type { TaskStore } from '../store/task-store.js';
import { isTerminal } from '../store/task-store.js';
import type { TaskRecord } from '../task.js';
import { describeFailure } from './failure.js';
import type { ModelRouterPort } from './model-router.js';
import type { TaskFinisher } from './task-finisher.js';
import { runAgentTask } from './task-runner.js';

export interface TaskConsumerOptions {
  store: TaskStore;
  router: ModelRouterPort;
  finisher: TaskFinisher;
  clock: Clock;
  /** The queue's attempts per job; the last failed attempt stores `dead_lettered`. */
  maxAttempts: number;
}

/** Router failures that no retry can fix. */
const PERMANENT_CODES = new Set(['unknown_route', 'upstream_rejected', 'upstream_auth_failed']);

/**
 * Builds the queue handler of async tasks: it runs the task and stores the
 * result. A failure is retried by the queue until the last attempt, which
 * stores `dead_lettered`; a permanent failure stores `failed` at once.
 */
export function createTaskHandler(options: TaskConsumerOptions): JobHandler<QueuedTaskData> {
  return async (job) => {
    const task = await options.store.getById(job.id);
    if (task === undefined || isTerminal(task.state)) return;
    await options.finisher.start(task);
    try {
      const context = { tenantId: task.tenantId, router: options.router, clock: options.clock };
      const run = await runAgentTask(task.request, context);
      // NOTE: worker time is billed per pool hour and apportioned in reports, so no executor cost is added per task.
      await options.finisher.succeed(task, job.data.ticket, run, 0);
    } catch (error) {
      await recordFailure(options, task, job, error);
    }
  };
}

async function recordFailure(
  options: TaskConsumerOptions,
  task: TaskRecord,
  job: QueueJob<QueuedTaskData>,
  error: unknown,
): Promise<never> {
  const failure = describeFailure(error);
  const taskError = { code: failure.code, message: failure.message };
  if (PERMANENT_CODES.has(failure.code)) {
    await options.finisher.fail(task, job.data.ticket, taskError, 'failed');
    throw new NonRetryableError(failure.message);
  }
  if (job.attempt >= options.maxAttempts) {
    await options.finisher.fail(task, job.data.ticket, taskError, 'dead_lettered');
  }
  throw error;
}
