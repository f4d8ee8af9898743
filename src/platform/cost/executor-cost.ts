import type { ServerlessPrices, WorkerPrices } from './price-table.js';
import { roundUsd } from './usd.js';

const MS_PER_HOUR = 3_600_000;
const MB_PER_GB = 1024;

export interface WorkerPoolUsage {
  workers: number;
  vcpuPerWorker: number;
  memoryGbPerWorker: number;
  /** Wall time the pool was up, in milliseconds, whether busy or idle. */
  wallMs: number;
}

/**
 * Bill of a worker pool: price per hour times the hours it ran, prorated to
 * the millisecond. Idle workers cost as much as busy ones.
 */
export function workerPoolCostUsd(prices: WorkerPrices, usage: WorkerPoolUsage): number {
  const perWorkerHour =
    usage.vcpuPerWorker * prices.perVcpuHour + usage.memoryGbPerWorker * prices.perGbHour;
  return roundUsd(usage.workers * perWorkerHour * (usage.wallMs / MS_PER_HOUR));
}

/**
 * Share of a pool's bill charged to one task, apportioned by busy time: the
 * task pays `taskBusyMs / totalBusyMs` of the bill, rounded to the picodollar. Idle
 * capacity is thereby spread over the tasks that ran. The rounded shares add up to
 * the bill within half a picodollar per task, and `apportionUsd` splits it exactly.
 * Returns 0 when no task was busy.
 */
export function workerTaskCostUsd(
  poolCostUsd: number,
  taskBusyMs: number,
  totalBusyMs: number,
): number {
  if (totalBusyMs <= 0) {
    return 0;
  }
  return roundUsd((poolCostUsd * taskBusyMs) / totalBusyMs);
}

export interface ServerlessInvocation {
  /** Billed duration, rounded up to the next whole millisecond. */
  durationMs: number;
  memoryMb: number;
}

/** Cost of one serverless invocation: per-ms duration times memory, plus the request fee. */
export function serverlessInvocationCostUsd(
  prices: ServerlessPrices,
  invocation: ServerlessInvocation,
): number {
  const gbSeconds = (Math.ceil(invocation.durationMs) / 1000) * (invocation.memoryMb / MB_PER_GB);
  return roundUsd(gbSeconds * prices.perGbSecond + prices.perMillionRequests / 1_000_000);
}
