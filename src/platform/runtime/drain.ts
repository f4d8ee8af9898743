import type { Clock } from '../clock.js';

/** Parts of a stopping platform. */
export interface DrainPlan {
  /** Stops that wait for running tasks: the gateway and the consumers. */
  drains: readonly (() => Promise<void>)[];
  /** Stops run after the drains, in order. */
  stops: readonly (() => Promise<void>)[];
  /** Aborted when the drain time runs out, so running tasks end at once. */
  shutdown: AbortController;
  clock: Clock;
  timeoutMs: number;
  onDrainTimeout?: () => void;
}

// NOTE: on Redis, tasks waiting in the queue for a first delivery or for a retry keep their
// state at stop, and the next start delivers them (in memory they fail with platform_shutdown).
/**
 * Runs the drains together for at most `timeoutMs`, then aborts `shutdown` so that
 * running tasks end: sync tasks, and async tasks in memory, fail with platform_shutdown,
 * and async tasks on Redis go back to the queue. Then runs the stops.
 */
export async function drainAndStop(plan: DrainPlan): Promise<void> {
  const timer = plan.clock.setTimeout(() => {
    plan.onDrainTimeout?.();
    plan.shutdown.abort();
  }, plan.timeoutMs);
  const results = await Promise.allSettled(plan.drains.map((drain) => drain()));
  plan.clock.clearTimeout(timer);
  for (const stop of plan.stops) await stop();
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
