import type { TokenUsage } from '../task.js';

/** Cost of one finished task. */
export interface CostEntry {
  taskId: string;
  tenantId: string;
  route: string;
  /** Provider and model of the attempt that produced the result. */
  provider: string;
  model: string;
  usage: TokenUsage;
  tokenCostUsd: number;
  executorCostUsd: number;
}

export interface CostTotal {
  tasks: number;
  totalUsd: number;
}

export interface CostSummary extends CostTotal {
  /** Mean cost per task in USD, or 0 with no tasks. */
  meanUsdPerTask: number;
  /** 95th percentile cost per task (nearest rank) in USD, or 0 with no tasks. */
  p95UsdPerTask: number;
  byTenant: Record<string, CostTotal>;
  byRoute: Record<string, CostTotal>;
}

/** Records the cost of each task and totals it per tenant and per route. */
export interface CostLedger {
  /** Adds a task's cost. Returns false, adding nothing, when the task id was already recorded. */
  record(entry: CostEntry): Promise<boolean>;
  summary(): Promise<CostSummary>;
}

/** Total cost of an entry: tokens plus executor, in USD. */
export function entryTotalUsd(entry: CostEntry): number {
  return entry.tokenCostUsd + entry.executorCostUsd;
}

/** Nearest-rank percentile of `values`, with `fraction` in (0, 1]. Returns 0 when empty. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) {
    return 0;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1] ?? 0;
}

/** Builds a summary from per-task costs and the per-tenant and per-route totals. */
export function summarize(
  taskCosts: readonly number[],
  byTenant: Record<string, CostTotal>,
  byRoute: Record<string, CostTotal>,
): CostSummary {
  const totalUsd = taskCosts.reduce((sum, cost) => sum + cost, 0);
  const tasks = taskCosts.length;
  return {
    tasks,
    totalUsd,
    meanUsdPerTask: tasks === 0 ? 0 : totalUsd / tasks,
    p95UsdPerTask: percentile(taskCosts, 0.95),
    byTenant,
    byRoute,
  };
}
