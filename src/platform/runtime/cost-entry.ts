import type { CostEntry } from '../cost/ledger.js';
import { roundUsd } from '../cost/usd.js';
import type { TaskRecord, TokenUsage } from '../task.js';
import { attemptsUsageOf } from './billed-usage.js';

/**
 * Builds the cost ledger entry of a finished task. A task with a result is
 * entered under the provider and model that produced it. A failed task that
 * still cost money is entered under its last attempt that carries usage, or
 * its last attempt, or `none` when it made none. Its usage is `spentUsage`, the
 * tokens its token cost pays for, or, without it, the tokens its failed attempts
 * used. Returns undefined for a failed task that cost nothing.
 * NOTE: usage leaves out some tokens that the token cost includes. A succeeded task's
 * usage has no failed attempts. A failed task's has nothing that earlier deliveries spent
 * beyond the checkpoint's steps, such as the failed calls of deliveries that went back to
 * the queue, or the retries that a killed delivery charged.
 */
export function costEntryOf(
  record: TaskRecord,
  executorCostUsd: number,
  spentUsage?: TokenUsage,
): CostEntry | undefined {
  const costUsd = record.costUsd ?? 0;
  const busyMs = workerBusyMsOf(record);
  const base = {
    taskId: record.id,
    tenantId: record.tenantId,
    route: record.request.route,
    tokenCostUsd: roundUsd(costUsd - executorCostUsd),
    executorCostUsd,
    ...(busyMs === undefined ? {} : { workerBusyMs: busyMs }),
  };
  const result = record.result;
  if (result !== undefined) {
    return { ...base, provider: result.provider, model: result.model, usage: result.usage };
  }
  if (costUsd <= 0) return undefined;
  const attempts = record.error?.attempts ?? [];
  const billed = attempts.filter((attempt) => attempt.usage !== undefined);
  const last = billed.at(-1) ?? attempts.at(-1);
  const usage = { ...(spentUsage ?? attemptsUsageOf(attempts)) };
  return { ...base, provider: last?.provider ?? 'none', model: last?.model ?? 'none', usage };
}

/**
 * Returns the time an async task ran on the worker pool: from its last delivery's start
 * to its end, plus the busy time of each earlier delivery that went back to the queue.
 * Undefined for a sync task, or an async task that never started.
 * NOTE: a delivery lost to a killed worker process has no known busy time, so it is not
 * counted.
 */
function workerBusyMsOf(record: TaskRecord): number | undefined {
  const { startedAt, finishedAt } = record;
  if (record.request.mode !== 'async' || startedAt === undefined || finishedAt === undefined) {
    return undefined;
  }
  let busyMs = Math.max(0, finishedAt - startedAt);
  for (const entry of record.deliveryCosts ?? []) busyMs += entry.busyMs ?? 0;
  return busyMs;
}
