import {
  type CostEntry,
  type CostLedger,
  type CostSummary,
  type CostTotal,
  entryTotalUsd,
  summarize,
} from './ledger.js';

/** A cost ledger in this process's memory. */
export class MemoryCostLedger implements CostLedger {
  readonly #costs = new Map<string, number>();
  readonly #byTenant: Record<string, CostTotal> = {};
  readonly #byRoute: Record<string, CostTotal> = {};

  async record(entry: CostEntry): Promise<boolean> {
    if (this.#costs.has(entry.taskId)) {
      return false;
    }
    const total = entryTotalUsd(entry);
    this.#costs.set(entry.taskId, total);
    addTo(this.#byTenant, entry.tenantId, total);
    addTo(this.#byRoute, entry.route, total);
    return true;
  }

  async summary(): Promise<CostSummary> {
    return summarize([...this.#costs.values()], { ...this.#byTenant }, { ...this.#byRoute });
  }
}

function addTo(totals: Record<string, CostTotal>, key: string, usd: number): void {
  const current = totals[key] ?? { tasks: 0, totalUsd: 0 };
  totals[key] = { tasks: current.tasks + 1, totalUsd: current.totalUsd + usd };
}
