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
  /** 95th percentile cost per task (nearest rank) in USD, or 0 with no tasks. */
  p95Usd: number;
}

/** The part of a recorded task that summaries group and price. */
export interface TaskCost {
  tenantId: string;
  route: string;
  totalUsd: number;
}

export interface CostSummary extends Omit<CostTotal, 'p95Usd'> {
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
  /** Summarizes the tasks of `tenants`, or of every tenant when omitted. */
  summary(tenants?: readonly string[]): Promise<CostSummary>;
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

/** Returns the costs of the tasks of `tenants`, or every cost when `tenants` is undefined. */
export function costsOfTenants(
  taskCosts: readonly TaskCost[],
  tenants: readonly string[] | undefined,
): readonly TaskCost[] {
  if (tenants === undefined) return taskCosts;
  const selected = new Set(tenants);
  return taskCosts.filter((cost) => selected.has(cost.tenantId));
}

/** Builds a summary, with totals and p95 per tenant and per route, from per-task costs. */
export function summarize(taskCosts: readonly TaskCost[]): CostSummary {
  const overall = totalOf(taskCosts.map((cost) => cost.totalUsd));
  return {
    tasks: overall.tasks,
    totalUsd: overall.totalUsd,
    meanUsdPerTask: overall.tasks === 0 ? 0 : overall.totalUsd / overall.tasks,
    p95UsdPerTask: overall.p95Usd,
    byTenant: totalsBy(taskCosts, (cost) => cost.tenantId),
    byRoute: totalsBy(taskCosts, (cost) => cost.route),
  };
}

function totalsBy(
  taskCosts: readonly TaskCost[],
  keyOf: (cost: TaskCost) => string,
): Record<string, CostTotal> {
  const groups = new Map<string, number[]>();
  for (const cost of taskCosts) {
    const key = keyOf(cost);
    const group = groups.get(key) ?? [];
    group.push(cost.totalUsd);
    groups.set(key, group);
  }
  return Object.fromEntries([...groups].map(([key, costs]) => [key, totalOf(costs)]));
}

function totalOf(costs: readonly number[]): CostTotal {
  return {
    tasks: costs.length,
    totalUsd: costs.reduce((sum, cost) => sum + cost, 0),
    p95Usd: percentile(costs, 0.95),
  };
}
