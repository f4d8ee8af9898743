import { setMaxListeners } from 'node:events';

import type { Clock } from '../clock.js';
import type { TaskRequest } from '../task.js';
import { SEND_AGAIN_WITH_NEW_KEY } from './failure.js';
import { spentTokenCostOf, spentUsageOf, withSpentTokens } from './model-router.js';

/** An async task ran past its deadline and was stopped. */
export class TaskDeadlineError extends Error {
  readonly code = 'task_deadline_exceeded';
  /** HTTP status a client sees for this failure. */
  readonly status = 504;
  readonly deadlineMs: number;

  constructor(deadlineMs: number) {
    super(
      `task ran longer than its ${deadlineMs} ms deadline (route deadline per step plus tool waits, capped by maxTaskDurationMs) and was stopped`,
    );
    this.name = 'TaskDeadlineError';
    this.deadlineMs = deadlineMs;
  }
}

/** The platform shut down while the task ran, after its drain time. */
export class PlatformShutdownError extends Error {
  readonly code = 'platform_shutdown';
  readonly status = 503;

  constructor() {
    super(`the platform shut down before the task finished; ${SEND_AGAIN_WITH_NEW_KEY}`);
    this.name = 'PlatformShutdownError';
  }
}

/** Type guard for {@link TaskDeadlineError}. */
export function isTaskDeadlineError(value: unknown): value is TaskDeadlineError {
  return value instanceof TaskDeadlineError;
}

/** Type guard for {@link PlatformShutdownError}. */
export function isPlatformShutdownError(value: unknown): value is PlatformShutdownError {
  return value instanceof PlatformShutdownError;
}

/** Time a running slot stays held after the longest a task may run, when its release never comes. */
export const SLOT_LEASE_MARGIN_MS = 60_000;

/**
 * Deadline of an async task: each step may take the route's deadline plus its
 * tool wait, and the whole task at most `maxTaskDurationMs`.
 */
export function asyncTaskDeadlineMs(
  request: TaskRequest,
  routeDeadlineMs: number,
  maxTaskDurationMs: number,
): number {
  const steps = request.steps ?? 1;
  return Math.min(maxTaskDurationMs, steps * (routeDeadlineMs + (request.toolWaitMs ?? 0)));
}

/** Signal of a run without limits. Many runs share it, so it allows any number of listeners. */
const NEVER_ABORTED = new AbortController().signal;
setMaxListeners(0, NEVER_ABORTED);

/** Limits of one task run; each is optional. */
export interface RunLimits {
  clock: Clock;
  /** Milliseconds after which the run is aborted with a {@link TaskDeadlineError}. */
  deadlineMs?: number;
  /** Aborted when the platform gives up draining; the run fails with {@link PlatformShutdownError}. */
  shutdown?: AbortSignal;
  /** The caller's own signal, such as a client that went away. */
  signal?: AbortSignal;
}

/**
 * Runs `run` with a signal that aborts at the deadline, at shutdown or with
 * the caller's signal. A deadline or shutdown abort rejects with its own
 * typed error, whatever error the aborted work threw, and keeps the token cost
 * that error carried.
 */
export async function runWithLimits<T>(
  limits: RunLimits,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { shutdown } = limits;
  if (limits.deadlineMs === undefined && limits.signal === undefined) {
    return shutdown === undefined ? run(NEVER_ABORTED) : runUntilShutdown(shutdown, run);
  }
  const controller = new AbortController();
  // The errors are built only when the abort happens: a stack trace per run costs CPU.
  const onShutdown = () => controller.abort(new PlatformShutdownError());
  const onSignal = () => controller.abort(limits.signal?.reason);
  const { clock, deadlineMs } = limits;
  const timer =
    deadlineMs === undefined
      ? undefined
      : clock.setTimeout(() => controller.abort(new TaskDeadlineError(deadlineMs)), deadlineMs);
  if (limits.shutdown?.aborted) onShutdown();
  limits.shutdown?.addEventListener('abort', onShutdown, { once: true });
  if (limits.signal?.aborted) onSignal();
  limits.signal?.addEventListener('abort', onSignal, { once: true });
  try {
    return await run(controller.signal);
  } catch (error) {
    const reason: unknown = controller.signal.reason;
    if (isTaskDeadlineError(reason) || isPlatformShutdownError(reason)) {
      throw withSpentTokens(reason, spentTokenCostOf(error), spentUsageOf(error));
    }
    throw error;
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    limits.shutdown?.removeEventListener('abort', onShutdown);
    limits.signal?.removeEventListener('abort', onSignal);
  }
}

/** Runs the common sync case, where shutdown is the only limit and no signal of its own is needed. */
async function runUntilShutdown<T>(
  shutdown: AbortSignal,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (shutdown.aborted) throw new PlatformShutdownError();
  try {
    return await run(shutdown);
  } catch (error) {
    if (shutdown.aborted) {
      const shutdownError = new PlatformShutdownError();
      throw withSpentTokens(shutdownError, spentTokenCostOf(error), spentUsageOf(error));
    }
    throw error;
  }
}
