import type { LatencySummary, PercentileBounds } from './latency-histogram.js';
import type { StallSummary } from './stall-tracker.js';

export type LoadEngineName = 'embedded' | 'k6';

/** Request counts of a run. */
export interface RequestCounts {
  /** Requests in the schedule. */
  scheduled: number;
  /** Requests sent to the target. */
  sent: number;
  /** Requests that ended in success: a 2xx sync response, or an async task that succeeded. */
  succeeded: number;
  /** Requests that ended in an HTTP error, a transport error, a failed task or a timeout. */
  failed: number;
  /** Scheduled sends skipped because the in-flight cap was reached. */
  dropped: number;
  /** Sends that left later than the late threshold after their scheduled time. */
  late: number;
  /**
   * Requests still outstanding at the drain deadline (or when the abort signal stopped the
   * run), then aborted. They are not successes, so they count against the success rate.
   */
  aborted: number;
}

/**
 * Request rates over the schedule's send window, which excludes the drain: rates over the
 * whole run would divide by drain time in which nothing is sent.
 */
export interface Throughput {
  /** The send window: the scheduled duration, or less when the abort signal stopped the run, in seconds. */
  windowSec: number;
  /** Requests sent per minute of the window: the load the target was offered. */
  offeredRpm: number;
  /** Requests that ended (succeeded or failed) inside the window; absent for k6, which does not time finishes. */
  completedInWindow?: number;
  /** `completedInWindow` per minute of the window: the completion rate the target achieved. */
  completedRpm?: number;
  /**
   * Requests that succeeded inside the window, a subset of `completedInWindow`. Absent for k6
   * and for outputs written before it was recorded.
   */
  succeededInWindow?: number;
  /** `succeededInWindow` per minute of the window: the throughput to plan capacity on. */
  succeededRpm?: number;
}

/** Outcome of the drain after the schedule. */
export interface DrainSummary {
  /** Time allowed after the scheduled duration for outstanding requests, in seconds. */
  timeoutSec: number;
  /**
   * `idle` when every request ended in time, `timeout` when the drain deadline aborted the
   * rest, `signal` when the abort signal stopped the run.
   */
  endedBy: 'idle' | 'timeout' | 'signal';
  /** Requests aborted when the drain ended; the same number as `requests.aborted`. */
  aborted: number;
}

/** One second of a run, for charts. */
export interface TimeSeriesPoint {
  /** Whole seconds since the run start. */
  second: number;
  /** Requests sent during this second. */
  requests: number;
  /** Requests that finished successfully during this second. */
  successes: number;
  /** Requests that finished with a failure during this second. */
  failures: number;
  /** Requests the drain aborted during this second; they count against the success rate. */
  aborted: number;
  /** 95th percentile latency of the requests finished in this second, in milliseconds; 0 when none. */
  p95Ms: number;
}

/** Request outcomes of one tenant or route. */
export interface GroupOutcomes {
  /** Requests that ended: succeeded, failed, or aborted by the drain. */
  finished: number;
  succeeded: number;
  /**
   * Requests of `finished` that the drain aborted; their latency counts as their wait, so
   * the group's percentiles are lower bounds when this is above 0.
   */
  aborted: number;
}

/** Asynchronous tasks followed from 202 to a terminal state. */
export interface AsyncFollowSummary {
  accepted: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  /** Accepted tasks still followed when the drain ended, then abandoned. */
  aborted: number;
  /**
   * Scheduled send to the observed terminal state. An aborted task counts with the time it
   * had waited, so with aborts the percentiles are lower bounds.
   */
  endToEnd: LatencySummary;
}

/** Whether the load generator kept up; an invalid run measures the generator, not the target. */
export interface HarnessHealth {
  valid: boolean;
  reasons: string[];
}

/** Outcome of a load run, shared by the embedded engine and the k6 converter. */
export interface LoadResult {
  engine: LoadEngineName;
  scenario: string;
  target: string;
  seed?: number;
  /** Epoch milliseconds at the run start. */
  startedAt: number;
  /** Wall time from the start to the end of the drain, in seconds; see `throughput` for rates. */
  elapsedSec: number;
  requests: RequestCounts;
  /** Rates over the send window; absent when the engine did not report the window. */
  throughput?: Throughput;
  /** Absent for engines without a drain of their own (k6). */
  drain?: DrainSummary;
  /** Succeeded over ended requests (succeeded + failed + aborted); 0 when none ended. */
  successRate: number;
  /**
   * Latency from the scheduled send time to the response (or terminal state for async).
   * A request the drain aborted counts with the time it had waited, so with aborts the
   * percentiles are lower bounds. NOTE: a result converted from k6 measures from just before
   * the iteration's POST, so a delay in k6 starting the iteration is not counted.
   */
  latency: {
    overall: LatencySummary;
    byTenant: Record<string, LatencySummary>;
    byRoute: Record<string, LatencySummary>;
    byTopology: Record<string, LatencySummary>;
    /**
     * Present when requests were aborted: the percentiles with the aborted requests counted
     * as never ending, overall and per tenant. Each is an upper bound, or null when more
     * requests were aborted than the percentile leaves above it.
     */
    upperBounds?: { overall: PercentileBounds; byTenant: Record<string, PercentileBounds> };
    /**
     * Present when requests were aborted: the latency of the requests that ended on their
     * own, without the aborted ones, overall, per tenant and per route. A tenant or route
     * whose every request was aborted is absent.
     */
    completed?: {
      overall: LatencySummary;
      byTenant: Record<string, LatencySummary>;
      byRoute: Record<string, LatencySummary>;
    };
  };
  /** Outcomes per tenant, for per-tenant service-level objectives. */
  successRateByTenant: Record<string, GroupOutcomes>;
  /**
   * Submissions the target rejected for a named limit, per tenant and by the `limit` of the
   * error body, such as `requests_per_minute` or `queue_oldest_age_ms`. A tenant with no
   * such rejection is absent. Absent in results converted from k6.
   */
  rejectionsByTenant?: Record<string, Record<string, number>>;
  /** Outcomes per route; absent in results converted from k6. */
  successRateByRoute?: Record<string, GroupOutcomes>;
  /** Actual send time minus scheduled send time. */
  schedulerLag: LatencySummary;
  /** Time the scheduler spent behind schedule; absent for engines that do not measure it. */
  schedulerStalls?: StallSummary;
  /** Response counts by HTTP status, such as `200` or `429`. */
  statusCodes: Record<string, number>;
  /** Failure counts by gateway error code or transport error code. */
  errorCodes: Record<string, number>;
  timeSeries: TimeSeriesPoint[];
  async: AsyncFollowSummary;
  health: HarnessHealth;
  /** k6 checks, when the run came from k6. */
  checks?: { passes: number; fails: number };
}

/**
 * Cost of a run as the platform's cost ledger recorded it. The ledger records every task with a
 * result and every failed task that cost money, so a failed task that cost nothing is not
 * among `tasks`.
 */
export interface RunCost {
  /** Tasks the ledger priced. */
  tasks: number;
  totalUsd: number;
  /** `totalUsd` over `tasks`; null when no task was priced. */
  meanUsdPerTask: number | null;
  /** 95th percentile cost per task (nearest rank); null when no task was priced. */
  p95UsdPerTask: number | null;
  /** Count of tasks still queued or running when the ledger was read, whose cost is missing. */
  unsettledTasks: number;
  /** Bill of the long-running worker pool over the run, shared out in the task costs above. */
  workerPoolUsd: number;
}

/** The platform that `scalegate load --platform` started for a run. */
export interface PlatformRun {
  /** Topology as `formatTopology` prints it, such as `workers=24 serverless_burst=enabled`. */
  topology: string;
  cost: RunCost;
}
