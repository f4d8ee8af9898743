import type { TokenUsage } from '../task.js';
import { addUsd, apportionUsd, roundUsd, sumUsd } from './usd.js';

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
  /** Time the task ran on the long-running worker pool, in ms; absent for sync tasks. */
  workerBusyMs?: number;
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
  /** Time the task ran on the worker pool, in ms; the pool's bill is shared out by it. */
  workerBusyMs?: number;
}

export interface CostSummary extends Omit<CostTotal, 'p95Usd'> {
  /** Mean cost per task in USD, or 0 with no tasks. */
  meanUsdPerTask: number;
  /** 95th percentile cost per task (nearest rank) in USD, or 0 with no tasks. */
  p95UsdPerTask: number;
  byTenant: Record<string, CostTotal>;
  byRoute: Record<string, CostTotal>;
  /**
   * Bill of the long-running worker pool over the run, in USD, which the task costs above
   * include in shares. 0 when none was given or no task was recorded.
   */
  workerPoolUsd: number;
}

/** Options of {@link CostLedger.summary}. */
export interface CostSummaryOptions {
  /** Tenants whose tasks the summary covers. @defaultValue every tenant */
  tenants?: readonly string[];
  /**
   * Bill of the worker pool over the run, shared out over every recorded task by its
   * worker busy time before the tenants are selected. When no task ran on the pool, each
   * task takes an equal share, because an idle pool costs as much. @defaultValue 0
   */
  workerPoolUsd?: number;
}

/** Count and cost of a group of tasks. */
export interface RunningTotal {
  tasks: number;
  totalUsd: number;
}

/** Totals of every task a ledger recorded, kept when the per-task records expire. */
export interface RunningTotals extends RunningTotal {
  byTenant: Record<string, RunningTotal>;
  byRoute: Record<string, RunningTotal>;
}

/**
 * Records the cost of each task and totals it per tenant and per route. Each task's record
 * is kept for the ledger's retention period, and for at most one time bucket (an eighth of
 * the period) longer, while the running totals count every task for good.
 */
export interface CostLedger {
  /**
   * Adds a task's cost. Returns false, adding nothing, when a record of the task id is
   * still kept, which it always is within the retention period.
   */
  record(entry: CostEntry): Promise<boolean>;
  /**
   * Summarizes the tasks whose records are kept, with the worker pool's bill shared out
   * over them. For a run shorter than the retention period, that is every task of the run.
   */
  summary(options?: CostSummaryOptions): Promise<CostSummary>;
  /** Returns the running totals of every task recorded, those with expired records included. */
  totals(): Promise<RunningTotals>;
}

/** Returns the part of an entry that summaries group and price. */
export function taskCostOf(entry: CostEntry): TaskCost {
  const cost: TaskCost = {
    tenantId: entry.tenantId,
    route: entry.route,
    totalUsd: entryTotalUsd(entry),
  };
  if (entry.workerBusyMs !== undefined) cost.workerBusyMs = entry.workerBusyMs;
  return cost;
}

/**
 * Summarizes every recorded task's cost: adds each task's share of the worker pool's
 * bill, then selects the tenants' tasks. The shares of all tasks add up to the bill, rounded
 * to the picodollar.
 */
export function summarizeLedger(
  taskCosts: readonly TaskCost[],
  options: CostSummaryOptions = {},
): CostSummary {
  const poolUsd = options.workerPoolUsd ?? 0;
  if (!Number.isFinite(poolUsd) || poolUsd < 0) {
    throw new RangeError(`workerPoolUsd must be a finite number >= 0, got ${String(poolUsd)}`);
  }
  const shared = poolUsd > 0 ? withPoolShares(taskCosts, poolUsd) : taskCosts;
  const summary = summarize(costsOfTenants(shared, options.tenants));
  return { ...summary, workerPoolUsd: taskCosts.length > 0 ? roundUsd(poolUsd) : 0 };
}

/**
 * Adds to each task's cost its share of the pool's bill, by its worker busy time, or an
 * equal share when no task was busy. The shares are whole picodollars and add up to the bill.
 * Of tasks with equal busy times, the first in `taskCosts` takes a picodollar left over, so
 * which task does depends on the order the ledger returns them in, which Redis does not fix.
 */
function withPoolShares(taskCosts: readonly TaskCost[], poolUsd: number): TaskCost[] {
  const shares = apportionUsd(
    poolUsd,
    taskCosts.map((cost) => cost.workerBusyMs ?? 0),
  );
  return taskCosts.map((cost, index) => ({
    ...cost,
    totalUsd: addUsd(cost.totalUsd, shares[index] ?? 0),
  }));
}

/** Total cost of an entry: tokens plus executor, in USD. */
export function entryTotalUsd(entry: CostEntry): number {
  return addUsd(entry.tokenCostUsd, entry.executorCostUsd);
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
export function summarize(taskCosts: readonly TaskCost[]): Omit<CostSummary, 'workerPoolUsd'> {
  const overall = totalOf(taskCosts.map((cost) => cost.totalUsd));
  return {
    tasks: overall.tasks,
    totalUsd: overall.totalUsd,
    meanUsdPerTask: overall.tasks === 0 ? 0 : roundUsd(overall.totalUsd / overall.tasks),
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
    totalUsd: sumUsd(costs),
    p95Usd: percentile(costs, 0.95),
  };
}
