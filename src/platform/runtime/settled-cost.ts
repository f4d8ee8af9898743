import { setTimeout as sleep } from 'node:timers/promises';

import type { CostLedger, CostSummary } from '../cost/ledger.js';
import type { TaskStore } from '../store/task-store.js';

export interface SettledCostOptions {
  /** Tenants whose tasks the summary covers. @defaultValue every tenant */
  tenants?: readonly string[];
  /** Wall-clock time to wait for running and queued tasks to end. @defaultValue 10_000 */
  limitMs?: number;
  /** Wall-clock time between reads. @defaultValue 50 */
  pollMs?: number;
  /** Ends the wait once aborted, so the summary is read at once. */
  signal?: AbortSignal;
  /** Returns the worker pool's bill so far, read with each summary. @defaultValue no bill */
  workerPoolUsd?: () => number;
}

/** A ledger summary read after the platform's tasks ended, with the count of those that did not. */
export interface SettledCost {
  summary: CostSummary;
  /** Count of tasks still queued or running when the summary was read, whose cost it lacks. */
  unsettled: number;
}

/**
 * Reads the ledger's summary once the store has no queued or running task and the ledger's
 * task count held still across one poll, so that ledger writes following a task's last
 * store write land first. Reads it anyway when `limitMs` runs out or `signal` is aborted.
 */
export async function settledCost(
  store: Pick<TaskStore, 'accounting'>,
  ledger: CostLedger,
  options: SettledCostOptions = {},
): Promise<SettledCost> {
  const limitMs = options.limitMs ?? 10_000;
  const pollMs = options.pollMs ?? 50;
  const deadline = performance.now() + limitMs;
  let previousTasks = -1;
  for (;;) {
    const counts = await store.accounting();
    const unsettled = counts.queued + counts.running;
    const stopped = performance.now() >= deadline || options.signal?.aborted === true;
    // The summary reads every task's cost, so it is read only once no task is open.
    if (unsettled === 0 || stopped) {
      const summary = await ledger.summary({
        tenants: options.tenants,
        workerPoolUsd: options.workerPoolUsd?.(),
      });
      if (stopped || summary.tasks === previousTasks) return { summary, unsettled };
      previousTasks = summary.tasks;
    } else {
      previousTasks = -1;
    }
    await sleep(pollMs);
  }
}
