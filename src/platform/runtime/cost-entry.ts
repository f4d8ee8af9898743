import type { CostEntry } from '../cost/ledger.js';
import type { TaskRecord } from '../task.js';

/** Builds the cost ledger entry of a finished task; undefined when it has no result. */
export function costEntryOf(record: TaskRecord, executorCostUsd: number): CostEntry | undefined {
  const result = record.result;
  if (result === undefined) return undefined;
  return {
    taskId: record.id,
    tenantId: record.tenantId,
    route: record.request.route,
    provider: result.provider,
    model: result.model,
    usage: result.usage,
    tokenCostUsd: (record.costUsd ?? 0) - executorCostUsd,
    executorCostUsd,
  };
}
