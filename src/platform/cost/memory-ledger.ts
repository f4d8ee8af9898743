import { type Clock, systemClock } from '../clock.js';
import {
  type CostEntry,
  type CostLedger,
  type CostSummary,
  type CostSummaryOptions,
  type RunningTotal,
  type RunningTotals,
  summarizeLedger,
  type TaskCost,
  taskCostOf,
} from './ledger.js';
import {
  checkCostRetentionMs,
  DEFAULT_COST_RETENTION_MS,
  type LiveBuckets,
  liveBuckets,
} from './retention.js';
import { addUsd } from './usd.js';

export interface MemoryCostLedgerOptions {
  /**
   * Time a task's cost record is kept for summary() and for duplicate checks, in ms. A
   * record may stay up to one bucket width longer (retention.ts).
   * @defaultValue DEFAULT_COST_RETENTION_MS (24 hours)
   */
  retentionMs?: number;
  /** @defaultValue systemClock */
  clock?: Clock;
}

/** A cost ledger in this process's memory, with the same retention as the Redis ledger. */
export class MemoryCostLedger implements CostLedger {
  readonly #retentionMs: number;
  readonly #clock: Clock;
  /** Per-task costs by time bucket index. */
  readonly #buckets = new Map<number, Map<string, TaskCost>>();
  readonly #totals: RunningTotals = { tasks: 0, totalUsd: 0, byTenant: {}, byRoute: {} };

  constructor(options: MemoryCostLedgerOptions = {}) {
    this.#retentionMs = checkCostRetentionMs(options.retentionMs ?? DEFAULT_COST_RETENTION_MS);
    this.#clock = options.clock ?? systemClock;
  }

  async record(entry: CostEntry): Promise<boolean> {
    const { current } = this.#dropExpired();
    for (const costs of this.#buckets.values()) {
      if (costs.has(entry.taskId)) return false;
    }
    const cost = taskCostOf(entry);
    const costs = this.#buckets.get(current) ?? new Map<string, TaskCost>();
    costs.set(entry.taskId, cost);
    this.#buckets.set(current, costs);
    this.#addToTotals(cost);
    return true;
  }

  async summary(options: CostSummaryOptions = {}): Promise<CostSummary> {
    this.#dropExpired();
    const costs = [...this.#buckets.values()].flatMap((bucket) => [...bucket.values()]);
    return summarizeLedger(costs, options);
  }

  async totals(): Promise<RunningTotals> {
    return structuredClone(this.#totals);
  }

  /**
   * Deletes the buckets that expired by now and returns the live range. A bucket newer than
   * the current one, left by a clock that was set back, stays.
   */
  #dropExpired(): LiveBuckets {
    const buckets = liveBuckets(this.#retentionMs, this.#clock.now());
    for (const index of this.#buckets.keys()) {
      if (index < buckets.oldest) this.#buckets.delete(index);
    }
    return buckets;
  }

  #addToTotals(cost: TaskCost): void {
    const totals = this.#totals;
    totals.tasks += 1;
    totals.totalUsd = addUsd(totals.totalUsd, cost.totalUsd);
    addTo(totals.byTenant, cost.tenantId, cost.totalUsd);
    addTo(totals.byRoute, cost.route, cost.totalUsd);
  }
}

function addTo(groups: Record<string, RunningTotal>, key: string, usd: number): void {
  const group = groups[key] ?? { tasks: 0, totalUsd: 0 };
  group.tasks += 1;
  group.totalUsd = addUsd(group.totalUsd, usd);
  groups[key] = group;
}
