export {
  isPriceNotFoundError,
  isPriceTableError,
  PriceNotFoundError,
  PriceTableError,
} from './errors.js';
export {
  type ServerlessInvocation,
  serverlessInvocationCostUsd,
  type WorkerPoolUsage,
  workerPoolCostUsd,
  workerTaskCostUsd,
} from './executor-cost.js';
export {
  type CostEntry,
  type CostLedger,
  type CostSummary,
  type CostTotal,
  type RunningTotal,
  type RunningTotals,
  type TaskCost,
  entryTotalUsd,
  percentile,
} from './ledger.js';
export { DEFAULT_PRICES_PATH, loadPriceTable, parsePriceTable } from './load-price-table.js';
export { MemoryCostLedger, type MemoryCostLedgerOptions } from './memory-ledger.js';
export type {
  ExecutorPrices,
  ModelPrice,
  ModelRef,
  PriceTableData,
  ServerlessPrices,
  WorkerPrices,
} from './price-table.js';
export { PriceTable } from './price-table.js';
export { RedisCostLedger, type RedisCostLedgerOptions } from './redis-ledger.js';
export { COST_BUCKETS_PER_RETENTION, DEFAULT_COST_RETENTION_MS } from './retention.js';
