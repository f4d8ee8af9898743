import {
  type CostEntry,
  type CostLedger,
  type CostSummary,
  costsOfTenants,
  entryTotalUsd,
  summarize,
  type TaskCost,
} from './ledger.js';

/** A cost ledger in this process's memory. */
export class MemoryCostLedger implements CostLedger {
  readonly #costs = new Map<string, TaskCost>();

  async record(entry: CostEntry): Promise<boolean> {
    if (this.#costs.has(entry.taskId)) {
      return false;
    }
    this.#costs.set(entry.taskId, {
      tenantId: entry.tenantId,
      route: entry.route,
      totalUsd: entryTotalUsd(entry),
    });
    return true;
  }

  async summary(tenants?: readonly string[]): Promise<CostSummary> {
    return summarize(costsOfTenants([...this.#costs.values()], tenants));
  }
}
