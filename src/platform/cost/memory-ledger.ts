import {
  type CostEntry,
  type CostLedger,
  type CostSummary,
  type CostSummaryOptions,
  summarizeLedger,
  type TaskCost,
  taskCostOf,
} from './ledger.js';

/** A cost ledger in this process's memory. */
export class MemoryCostLedger implements CostLedger {
  readonly #costs = new Map<string, TaskCost>();

  async record(entry: CostEntry): Promise<boolean> {
    if (this.#costs.has(entry.taskId)) {
      return false;
    }
    this.#costs.set(entry.taskId, taskCostOf(entry));
    return true;
  }

  async summary(options: CostSummaryOptions = {}): Promise<CostSummary> {
    return summarizeLedger([...this.#costs.values()], options);
  }
}
