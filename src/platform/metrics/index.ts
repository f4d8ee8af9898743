export {
  QUEUE_WAIT_BUCKETS,
  TIME_TO_FIRST_TOKEN_BUCKETS,
  TOTAL_LATENCY_BUCKETS,
} from './buckets.js';
export {
  BREAKER_STATE_VALUES,
  type BreakerState,
  createPlatformMetrics,
  type FallbackRouteLabels,
  type ModelLabels,
  type PlatformMetricsOptions,
  type PlatformMetrics,
  type RequestLabels,
  type RequestOutcome,
  type WorkerExitReason,
} from './platform-metrics.js';
export type { TenantUsageSample, TenantUsageSource } from './tenant-gauges.js';
