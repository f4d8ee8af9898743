import type { RunSlots } from '../admission/run-slots.js';
import type { Clock } from '../clock.js';
import type { QueuedTaskData } from '../gateway/ports.js';
import { DeferError, type JobHandler, NonRetryableError, type QueueJob } from '../queue/index.js';
import type { TaskStore } from '../store/task-store.js';
import type { DeliveryCost, TaskRecord } from '../task.js';
import { describeFailure, type FailureDescription, taskErrorOf } from './failure.js';
import { failureOf, type ModelRouterPort, spentTokenCostOf, spentUsageOf } from './model-router.js';
import { runWithLimits, SLOT_LEASE_MARGIN_MS } from './run-limits.js';
import { DEFAULT_MAX_TASK_DURATION_MS } from '../gateway/schema.js';
import type { TaskFinisher } from './task-finisher.js';
import type { TicketSpend } from './ticket-spend.js';
import { runAgentTask, type TaskRunContext } from './task-runner.js';

export interface TaskConsumerOptions {
  store: TaskStore;
  router: ModelRouterPort;
  finisher: TaskFinisher;
  clock: Clock;
  /** The queue's attempts per job; the last failed attempt stores `dead_lettered`. */
  maxAttempts: number;
  /** Deadline of each task in ms, from its route and tool waits. @defaultValue none */
  deadlineMs?: (request: TaskRecord['request']) => number;
  /** Aborted when the platform stops waiting for running tasks. @defaultValue none */
  shutdown?: AbortSignal;
  /**
   * Outcome of a run cut by `shutdown`. `fail` stores `platform_shutdown`, for a queue that
   * ends with the process. `requeue` puts the task back in the queue without using up an
   * attempt, for a queue that another process or the next start consumes.
   * @defaultValue 'fail'
   */
  onShutdown?: 'fail' | 'requeue';
  /** Called when a task starts, with the time it waited since it was queued. @defaultValue none */
  onStart?: (task: TaskRecord, queueWaitMs: number) => void;
  /**
   * Clock of the jobs' `enqueuedAt`, which `onStart`'s queue wait is measured on. BullMQ
   * stamps jobs with the system clock whatever `clock` is. @defaultValue clock
   */
  queueClock?: Clock;
  /**
   * Running slots that hold each tenant to its `maxRunning`. A task over its tenant's cap
   * goes back to the queue for a short wait. @defaultValue no cap
   */
  runSlots?: RunSlots;
  /**
   * Returns a tenant's cap of running async tasks, or undefined for none. It is read when a
   * task is about to start, so a restart with a new tenants file applies to queued tasks.
   * @defaultValue no cap
   */
  maxRunningOf?: (tenantId: string) => number | undefined;
  /**
   * How long a slot stays held when its release never comes, as after a killed worker;
   * longer than any task runs. @defaultValue 960_000
   */
  slotLeaseMs?: number;
  /** Called when a task's start is put off by its tenant's running cap. @defaultValue none */
  onCapDeferral?: (tenantId: string) => void;
  /** Called when freeing a running slot failed; the slot then stays held until its lease ends. */
  onSlotReleaseError?: (error: unknown, taskId: string, tenantId: string) => void;
  /**
   * Called when storing a checkpoint failed; a later delivery then repeats the steps
   * after the last stored one. @defaultValue none
   */
  onCheckpointError?: (error: unknown, taskId: string) => void;
  /** Called when a delivery resumes a task after the steps an earlier one finished. @defaultValue none */
  onResume?: (task: TaskRecord, steps: number) => void;
  /**
   * Called with each failed delivery's failure before the task stores it or goes back to
   * the queue, so the caller can log its `logMessage`. @defaultValue none
   */
  onFailure?: (task: TaskRecord, failure: FailureDescription) => void;
}

/** Returns the cap of `tenantId` in `caps`, reading own keys only, or undefined for none. */
export function capOf(caps: Record<string, number>, tenantId: string): number | undefined {
  return Object.hasOwn(caps, tenantId) ? caps[tenantId] : undefined;
}

/** The default cap of a task's duration plus the lease margin. */
const DEFAULT_SLOT_LEASE_MS = DEFAULT_MAX_TASK_DURATION_MS + SLOT_LEASE_MARGIN_MS;

/** Shortest wait of a task deferred by its tenant's running cap. */
const CAP_DEFER_MS = 250;

/** Maximum wait of a deferred task before its random share is added. */
const CAP_DEFER_MAX_MS = 2000;

/**
 * Returns the wait of a task that its tenant's running cap puts off. The wait doubles with
 * each earlier delivery of the job that did not start a run, up to {@link CAP_DEFER_MAX_MS},
 * so a tenant's waiting tasks do not keep the workers busy taking them back. A random
 * share up to as much again is added, so deferred tasks do not return together.
 * @param random Source in [0, 1). @defaultValue Math.random
 */
export function capDeferMs(
  job: Pick<QueueJob<unknown>, 'attempt' | 'deliveries'>,
  random: () => number = Math.random,
): number {
  // Deliveries beyond the attempt count are deferrals, or now and then a delivery that a
  // shutdown cut or that stalled, which lengthen the wait the same way.
  const deferrals = Math.max(0, job.deliveries - job.attempt);
  const baseMs = Math.min(CAP_DEFER_MAX_MS, CAP_DEFER_MS * 2 ** deferrals);
  return baseMs + Math.floor(random() * baseMs);
}

/** Router failures that no retry can fix. */
const PERMANENT_CODES = new Set([
  'unknown_route',
  'output_limit_exceeded',
  'context_length_exceeded',
  'upstream_rejected',
  'upstream_auth_failed',
  'task_deadline_exceeded',
  'platform_shutdown',
  'budget_exhausted',
]);

/**
 * Builds the queue handler of async tasks: it runs the task and stores the
 * result. A failure is retried by the queue until the last attempt, which
 * stores `dead_lettered`; a permanent failure stores `failed` at once. A run cut
 * by the shutdown goes back to the queue when `onShutdown` is `requeue`. With
 * `runSlots`, a task whose tenant already runs its `maxRunning` tasks is
 * deferred before it starts.
 */
export function createTaskHandler(options: TaskConsumerOptions): JobHandler<QueuedTaskData> {
  const run = runTaskJob(options);
  const { runSlots } = options;
  if (runSlots === undefined) return run;
  const leaseMs = options.slotLeaseMs ?? DEFAULT_SLOT_LEASE_MS;
  // NOTE: slots are keyed by task id, so a delivery that lost its job lock and the queue's
  // redelivery of the same task share one slot, and the first to end frees it. A tenant's
  // deferred tasks start in no set order, since each deferral puts its task back in line.
  return async (job) => {
    const { tenantId } = job.data.ticket;
    const cap = options.maxRunningOf?.(tenantId);
    if (cap === undefined) return run(job);
    if (!(await runSlots.acquire(tenantId, job.id, cap, leaseMs))) {
      options.onCapDeferral?.(tenantId);
      const delayMs = capDeferMs(job);
      throw new DeferError(delayMs, `tenant ${tenantId} runs its cap of ${cap} tasks`);
    }
    try {
      await run(job);
    } finally {
      await runSlots
        .release(tenantId, job.id)
        .catch((error: unknown) => options.onSlotReleaseError?.(error, job.id, tenantId));
    }
  };
}

/** Builds the handler that runs one delivery of a task, with no running cap. */
function runTaskJob(options: TaskConsumerOptions): JobHandler<QueuedTaskData> {
  return async (job) => {
    // One store call both skips unknown or terminal tasks and marks the rest running.
    const task = await options.finisher.startById(job.id);
    if (task === undefined) return;
    const queueClock = options.queueClock ?? options.clock;
    options.onStart?.(task, Math.max(0, queueClock.now() - job.enqueuedAt));
    const spend = options.finisher.ticketSpend(job.data.ticket, task.deliveries);
    try {
      // Admission reserved one delivery, so a redelivery checks the budget first.
      if (task.deliveries > 1) await spend.charge(0);
      const { router, clock, shutdown } = options;
      const limits = { clock, shutdown, deadlineMs: options.deadlineMs?.(task.request) };
      const hooks = { ...spend.runHooks(), afterStep: checkpointing(options, task, spend) };
      const resumeFrom = task.checkpoint;
      if (resumeFrom !== undefined) options.onResume?.(task, resumeFrom.steps);
      const context = { tenantId: task.tenantId, router, clock, resumeFrom, ...hooks };
      const run = await runWithLimits(limits, (signal) =>
        runAgentTask(task.request, { ...context, signal }),
      );
      // NOTE: worker time is billed per pool hour and apportioned in reports, so no executor cost is added per task.
      await options.finisher.succeed(task, spend, run);
    } catch (error) {
      await recordFailure(options, task, job, error, spend);
    }
  };
}

/**
 * Returns the run's after-step hook: it charges the run's spend, then stores the finished
 * steps as the task's checkpoint. A checkpoint lets a later delivery skip those steps, so
 * it is stored only once the ticket took their spend, which the delivery that ends the
 * task then counts in the task's cost.
 */
function checkpointing(
  options: TaskConsumerOptions,
  task: TaskRecord,
  spend: TicketSpend,
): NonNullable<TaskRunContext['afterStep']> {
  return async (spentUsd, done) => {
    await spend.chargeRest(spentUsd);
    if (spend.chargedUsd < spentUsd) return;
    try {
      await options.store.saveCheckpoint(task.id, done);
    } catch (error) {
      options.onCheckpointError?.(error, task.id);
    }
  };
}

async function recordFailure(
  options: TaskConsumerOptions,
  task: TaskRecord,
  job: QueueJob<QueuedTaskData>,
  error: unknown,
  spend: TicketSpend,
): Promise<never> {
  const failure = describeFailure(error);
  options.onFailure?.(task, failure);
  const taskError = taskErrorOf(failure);
  const spentUsd = spentTokenCostOf(error);
  const costs = { tokenUsd: spentUsd, tokenUsage: spentUsageOf(error) };
  if (failure.code === 'platform_shutdown' && options.onShutdown === 'requeue') {
    await requeue(options, task, spend, spentUsd);
    throw new DeferError(0, `task ${task.id} cut by a shutdown; queued again`);
  }
  if (PERMANENT_CODES.has(failure.code)) {
    await options.finisher.fail(task, spend, taskError, 'failed', costs);
    throw new NonRetryableError(failure.message);
  }
  if (job.attempt >= options.maxAttempts) {
    await options.finisher.fail(task, spend, taskError, 'dead_lettered', costs);
  } else {
    await requeue(options, task, spend, spentUsd);
  }
  throw failureOf(error);
}

/**
 * Stores the task as queued, with the spend and busy time of the run that ended added to
 * its delivery costs. Its ticket stays open with that spend charged, and the delivery that
 * ends the task settles its own run.
 */
async function requeue(
  options: TaskConsumerOptions,
  task: TaskRecord,
  spend: TicketSpend,
  spentUsd: number,
): Promise<void> {
  const cost: DeliveryCost = { delivery: spend.run, costUsd: spentUsd };
  // The finisher stamps the start on its clock, which the platform also passes here.
  if (task.startedAt !== undefined) {
    cost.busyMs = Math.max(0, options.clock.now() - task.startedAt);
  }
  await options.store.requeue(task.id, cost);
  await spend.chargeRest(spentUsd);
}
