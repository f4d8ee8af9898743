import type { CostEntry } from '../cost/ledger.js';
import { roundUsd } from '../cost/usd.js';
import type { TaskRecord, TokenUsage } from '../task.js';

/**
 * Builds the cost ledger entry of a finished task. A task with a result is
 * entered under the provider and model that produced it. A failed task that
 * still cost money is entered under its last attempt that carries usage, or
 * its last attempt, or `none` when it made none, with the tokens its failed
 * attempts used. Returns undefined for a failed task that cost nothing.
 * NOTE: the usage of a failed multi-step task counts only the failed call's
 * attempts, though its token cost includes the finished steps.
 */
export function costEntryOf(record: TaskRecord, executorCostUsd: number): CostEntry | undefined {
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
  const usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  for (const attempt of billed) {
    usage.inputTokens += attempt.usage?.inputTokens ?? 0;
    usage.outputTokens += attempt.usage?.outputTokens ?? 0;
  }
  return { ...base, provider: last?.provider ?? 'none', model: last?.model ?? 'none', usage };
}

/**
 * Returns the time an async task ran on the worker pool: from its last delivery's start
 * to its end. Undefined for a sync task, or an async task that never started.
 * NOTE: earlier deliveries of a redelivered task are not counted, because the record keeps
 * only the last start.
 */
function workerBusyMsOf(record: TaskRecord): number | undefined {
  const { startedAt, finishedAt } = record;
  if (record.request.mode !== 'async' || startedAt === undefined || finishedAt === undefined) {
    return undefined;
  }
  return Math.max(0, finishedAt - startedAt);
}
