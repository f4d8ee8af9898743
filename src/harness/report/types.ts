/**
 * Shapes of a scalegate report. reports/schema/report.schema.json is the
 * contract; these types mirror it field for field, and the validator checks
 * every report against the schema before anything is written.
 */

import type { BackpressureLimits } from '../../platform/admission/backpressure.js';

/**
 * Schema version this scalegate writes. Version 2 added `drill.breakers`, version 3 the
 * queue gauges of the series and the `worker-pause` fault, version 4 the admission
 * rejections per tenant of the series, version 5 the failovers per provider pair of the
 * series, version 6 the providers' bill of a drill's cost, version 7 the times to first token
 * per provider of the series, version 8 the provider calls that reached fallback routes,
 * version 9 the requests that the run's own stop cut, per topology and per second, which
 * its latency percentiles leave out.
 */
export const REPORT_SCHEMA_VERSION = 9;

/** Schema versions this scalegate reads. */
export const READABLE_REPORT_SCHEMA_VERSIONS: readonly number[] = [
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  REPORT_SCHEMA_VERSION,
];

/** First schema version whose series records failovers per provider pair. */
export const FAILOVER_PAIRS_SCHEMA_VERSION = 5;

/** First schema version whose series records times to first token per provider. */
export const FIRST_TOKEN_SCHEMA_VERSION = 7;

export type Verdict = 'passed' | 'deviated' | 'inconclusive' | 'aborted';

export interface MachineInfo {
  cpus: number;
  /** Model name of the first CPU, such as `AMD EPYC`; absent in reports written before it was recorded. */
  cpuModel?: string;
  memoryBytes: number;
  nodeVersion: string;
  platform: string;
}

export interface Environment {
  commit: string;
  /** sha256 of the route policy file the run used, read when the platform started. */
  policyHash: string;
  /** Route policy file the run loaded, as given on the command line or the default. */
  policyPath?: string;
  engine: 'embedded' | 'k6';
  seed: number;
  /** Simulated seconds per wall second; 1 means real time. */
  timeScale: number;
  /**
   * Queue limits at which the gateway shed requests. Absent in reports written before they
   * were recorded, whose platforms used `DEFAULT_BACKPRESSURE`.
   */
  backpressure?: BackpressureLimits;
  /**
   * Storage of admission, queue, task store and cost ledger: `memory`, or `redis` when
   * REDIS_URL was set.
   * Absent in reports written before it was recorded.
   */
  drivers?: 'memory' | 'redis';
  /**
   * Price table the platform priced tasks with, relative to the scalegate checkout when it
   * lies inside it, else absolute. Absent in reports written before it was recorded, as are
   * the other price table and tenants file fields.
   */
  pricesPath?: string;
  /** sha256 hex digest of the price table's bytes, read before the platform started. */
  pricesHash?: string;
  /** The price table's `effectiveDate`, as YYYY-MM-DD. */
  pricesEffectiveDate?: string;
  /** Tenants file the platform admitted requests with, relative to the checkout as `pricesPath` is. */
  tenantsPath?: string;
  /** sha256 hex digest of the tenants file's bytes, read before the platform started. */
  tenantsHash?: string;
  machine: MachineInfo;
}

export interface ScenarioSummary {
  name: string;
  description?: string;
  durationS: number;
  arrivalRatePerMinute: number;
  tenants: string[];
  routes: string[];
  /**
   * Routes of the policy that the run did not exercise, so the verdict does not cover them: no
   * request of the run used them, and, from schema version 8 on, no task called their
   * candidates through `fallbackRoute`.
   */
  unexercisedRoutes?: string[];
}

/** Changes of one route, or of the policy-wide `throttle` block when `route` is null. */
export interface PolicyChange {
  route: string | null;
  kind: 'added' | 'removed' | 'changed';
  /** One entry per setting, such as `breaker.cooldownMs 15000 -> 5000`; empty unless changed. */
  details: string[];
}

/** Comparison of the drilled route policy with the base policy that it changes. */
export interface PolicyChangeRecord {
  /** Base policy file as given to `drill --base-policy`. */
  basePolicyPath: string;
  /** sha256 hex digest of the base policy file. */
  basePolicySha256: string;
  /** Changes in the order `policyChanges` lists them; empty when the settings are the same. */
  changes: PolicyChange[];
  /**
   * Added or changed routes that the run did not exercise, so the verdict does not cover their
   * changes. `validateReport` recomputes them from `scenario.routes` and each topology's
   * `fallbackRouteAttempts`.
   */
  unexercisedRoutes: string[];
}

export interface VerdictRecord {
  status: Verdict;
  reasons: string[];
}

export interface LatencySummary {
  p50S: number;
  p95S: number;
  p99S: number;
}

/** Results of one slice of traffic: one tenant or one route. */
export interface Breakdown {
  key: string;
  requests: number;
  successRate: number;
  latency: LatencySummary;
}

/**
 * Failover counts keyed by the provider that failed over (`from_provider`), then by the
 * provider it failed over to (`to_provider`).
 */
export type FailoversByPair = Record<string, Record<string, number>>;

/** Count and sum of times to first token, as a Prometheus histogram's `_count` and `_sum`. */
export interface FirstTokenSum {
  count: number;
  sumS: number;
}

export interface FailoverCount {
  fromProvider: string;
  toProvider: string;
  activations: number;
}

/**
 * Provider calls that tasks of `route` made to candidates it takes from `fallbackRoute`, one
 * of the routes its `fallbackRoute` links lead to, counted from the platform's start.
 */
export interface FallbackRouteAttempts {
  route: string;
  fallbackRoute: string;
  /** Calls of every outcome: succeeded, failed, or aborted by the caller. */
  attempts: number;
  /** Calls that succeeded, so the fallback route served the task's call. */
  succeeded: number;
}

export interface CostSlice {
  key: string;
  meanUsd: number;
  /** Null when the source keeps only totals per slice, so no percentile can be computed. */
  p95Usd: number | null;
  totalUsd: number;
}

export interface CostSummary {
  meanUsd: number;
  p95Usd: number;
  totalUsd: number;
  /**
   * Tasks of any tenant still queued or running when the cost was read. The totals lack
   * the cost of those among them that the main load sent.
   */
  unsettledTasks?: number;
  /**
   * Bill of the long-running worker pool over the run, in USD. Every task's cost includes
   * a share of it by worker busy time, so the totals include the main load's shares.
   */
  workerPoolUsd?: number;
  byTenant: CostSlice[];
  byRoute: CostSlice[];
  /**
   * The mock providers' bill for the tokens they served, beside the token cost the platform
   * charged. Drills only, from schema version 6 on.
   */
  providerBill?: ProviderBill;
}

/** Tokens the mock providers served for one model, and their price. */
export interface ProviderBillLine {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  usd: number;
}

/**
 * The providers' side of a run's token cost: the tokens each mock provider served to every
 * tenant, priced with the platform's price table, beside the token cost the platform charged.
 * Both count from the platform's start, so they cover the drill's tenant bursts too.
 */
export interface ProviderBill {
  lines: ProviderBillLine[];
  /** Sum of the lines' prices. */
  totalUsd: number;
  /** Token cost of every finished task, as the platform charged it. */
  chargedUsd: number;
  /**
   * `totalUsd - chargedUsd`. Above 0, the providers served tokens that no finished task was
   * charged for, such as from calls cut short or tasks still running when the bill was read.
   */
  differenceUsd: number;
  /** Tokens of models the price table does not list, left out of `totalUsd`. */
  unpricedTokens: number;
  /** Providers whose counters could not be read, so their tokens are missing from the lines. */
  unreadProviders: string[];
}

export interface HarnessHealth {
  /** False when the load generator itself fell behind, so latency numbers are suspect. */
  valid: boolean;
  reasons: string[];
  lagP99Ms: number;
  droppedSends: number;
  lateSends: number;
  /**
   * Milliseconds in which some due send waited longer than the lag limit (50 ms by default).
   * From schema version 5 on, and absent for k6 results, which do not measure it.
   */
  behindMs?: number;
}

/**
 * One second of a run; `t` counts seconds from the load's second 0, its first scheduled send.
 * In a drill that is the drill's time 0, from which its fault offsets and probe windows count,
 * and every field of the point covers the same second.
 */
export interface SeriesPoint {
  t: number;
  /**
   * Requests that ended in this second: succeeded, failed, rejected or aborted by the drain
   * deadline. Requests that the run's own stop cut are left out and counted in `cutByStop`.
   */
  requests: number;
  /**
   * Requests in flight that the run's own stop cut in this second, such as a drill's abort
   * after SIGINT, an abort rule or a failed fault step. They are no platform failure, so
   * `requests`, `successRate` and the drill's probes leave them out. Absent when none was
   * cut, and before schema version 9.
   */
  cutByStop?: number;
  successes: number;
  throughputRpm: number;
  successRate: number;
  p95S: number;
  /**
   * Failovers in this second, counted by the platform's `scalegate_failover_activations_total`:
   * one per switch to another provider, so one request can count more than once.
   */
  failovers: number;
  /**
   * The failovers of this second per provider pair, from the labels `from_provider` and
   * `to_provider` of the same counter, so they add up to `failovers`. A pair without a
   * failover in this second is absent, and so is a provider without one. The field is
   * absent before schema version 5 and for a second the drill did not read.
   */
  failoversByPair?: FailoversByPair;
  /**
   * Calls per mock provider that got HTTP status 200 and finished in this second,
   * from `mock_provider_requests_total`. Calls of burst tenants count, and so do calls whose
   * stream failed after the 200, so the sum can exceed `successes`.
   */
  servedBy: Record<string, number>;
  /**
   * Times to first token of the tasks that finished in this second, per provider that
   * delivered the first token, from `scalegate_time_to_first_token_seconds`. A provider without
   * one in this second is absent. The field is absent before schema version 7 and for a
   * second the drill did not read.
   */
  firstTokenByProvider?: Record<string, FirstTokenSum>;
  /**
   * Tasks waiting in the platform's queue, `scalegate_queue_depth`, read at the end of this
   * second. Absent before schema version 3 and for a second the drill did not read.
   */
  queueDepth?: number;
  /**
   * Maximum time a waiting task had waited, `scalegate_queue_oldest_age_seconds`, read with
   * `queueDepth`, in seconds.
   */
  queueOldestAgeS?: number;
  /**
   * Requests that admission rejected in this second, per tenant, from the platform's
   * `scalegate_admission_rejections_total` summed over its reasons. Burst tenants are
   * included. A tenant without a rejection in this second is absent. The field is absent
   * before schema version 4 and for a second the drill did not read.
   */
  admissionRejections?: Record<string, number>;
}

export interface TopologyResult {
  topology: string;
  settings: Record<string, string | number | boolean>;
  throughputRpm: number;
  /**
   * Seconds from the load start to the end of the send window: the scenario's duration, or
   * less when the drill was aborted. From schema version 5 on, and absent for k6 results.
   */
  sendWindowS?: number;
  requests: number;
  successRate: number;
  /**
   * Latency from the scheduled send to the response or terminal state. A request the drain
   * deadline aborted counts with the time it had waited. Requests in `cutByStop` are left out.
   */
  latency: LatencySummary;
  perTenant: Breakdown[];
  perRoute: Breakdown[];
  /**
   * Response counts keyed by HTTP status; an async request counts the status of its
   * submission. A request without a response has no key. In a run its own stop ended, the
   * counts plus `cutByStop` less `cutAfterAccepted` add up to `requests`, unless some request
   * failed without a response, such as in transport.
   */
  statusCounts: Record<string, number>;
  /**
   * Requests in flight that the run's own stop cut, such as a drill's abort: the sum of
   * `cutByStop` over `timeSeries`. `successRate` and every latency percentile leave them out.
   * Absent when none was cut, and before schema version 9.
   */
  cutByStop?: number;
  /**
   * Async tasks of `cutByStop` that the stop cut after their submission's 202, which
   * `statusCounts` also counts under `202`. Absent when there were none, and before schema
   * version 9.
   */
  cutAfterAccepted?: number;
  failovers: FailoverCount[];
  /**
   * Provider calls to candidates of fallback routes, one entry per route and fallback route
   * with at least one call. Drill reports record it from schema version 8 on, and load reports
   * and older drill reports lack it.
   */
  fallbackRouteAttempts?: FallbackRouteAttempts[];
  cost: CostSummary;
  harness: HarnessHealth;
  timeSeries: SeriesPoint[];
}

/**
 * Window of a steady-state check. `before` runs until the first fault, `during` is a stretch
 * in which at least one fault is active, `between` is a gap between faults from `settleS`
 * after one ends, and `after` runs from `settleS` after the last fault ends.
 */
export type DrillPhase = 'before' | 'during' | 'between' | 'after';

export interface ProbeResult {
  name: string;
  /** Measured quantity: a series measure such as `successRate`, or a Prometheus metric name. */
  metric: string;
  comparator: 'min' | 'max';
  threshold: number;
  tolerance: number;
  /** Measured value, or null when the window held no data. */
  value: number | null;
  /** Null when the probe was not checked in this window, for the reason in `notChecked`. */
  passed: boolean | null;
  /**
   * Reason the probe was not checked in this window: the spec leaves it out of the phase,
   * or its limit admits every value the measure can take, so it could not fail.
   */
  notChecked?: string;
}

export interface SteadyStateCheck {
  phase: DrillPhase;
  fromS: number;
  toS: number;
  /** False when a probe failed; null when no probe was checked in this window. */
  passed: boolean | null;
  probes: ProbeResult[];
}

/** Priority class of a task; the gateway sheds `batch` first and `critical` last. */
export type PriorityClassName = 'critical' | 'standard' | 'batch';

/** Requests that backpressure shed for one tenant with one status. */
export interface ShedCount {
  tenant: string;
  /** The tenant's tier, the class of its requests, which name no priority in a drill's load. */
  priorityClass: PriorityClassName;
  /** 429 below the hard limit, 503 at it. */
  status: number;
  requests: number;
}

/** Queue limits at which the gateway sheds each class. */
export interface BackpressureRecord {
  maxQueueDepth: number;
  maxOldestAgeMs: number;
  /** Fractions of the hard limits at which `batch`, then `standard`, are shed. */
  watermarks: { batch: number; standard: number };
  /** Range of a shed request's `Retry-After`, the oldest task's age clamped to it, in seconds. */
  retryAfterS: { min: number; max: number };
}

/** Outcome of a worker pause. */
export interface WorkerPauseRecord {
  /** Async worker slots the pause took away: all of the topology's workers. */
  slots: number;
  /** Requests that backpressure shed from the pause's start to the drill's end. */
  shed: ShedCount[];
  backpressure: BackpressureRecord;
}

export interface FaultRecord {
  id: string;
  kind: 'toxic' | 'provider-fault' | 'tenant-burst' | 'worker-pause';
  target: string;
  description: string;
  /** Planned and actual offsets in seconds from the load start. */
  startS: number;
  endS: number;
  appliedAtS: number | null;
  removedAtS: number | null;
  error?: string;
  /** Outcome of a tenant burst stream. */
  burst?: { tenant: string; requests: number; succeeded: number; shed: number };
  /** Outcome of a worker pause, from schema version 3 on. */
  workerPause?: WorkerPauseRecord;
  /**
   * The direction and share of connections a toxic applied to. Reports written before
   * these were recorded lack it.
   */
  toxic?: { stream: 'upstream' | 'downstream'; toxicity: number };
}

/** Failover timing measured from the per-provider served counts of the series. */
export interface FailoverTiming {
  faultId: string;
  primary: string;
  fallback: string;
  /** Seconds from outage start to the first second the fallback served more than the primary. */
  detectionS: number | null;
  /** Seconds from fault end to the first second the primary served more than the fallback again. */
  recoveryS: number | null;
}

export interface AbortRecord {
  reason: 'abort-rule' | 'signal' | 'error';
  /** The abort rule that fired, the signal's reason, or the error message. */
  detail: string;
  atS: number;
  value?: number;
}

export interface RollbackStep {
  step: string;
  ok: boolean;
  error?: string;
}

/** Circuit breaker state, as the `scalegate_breaker_state` gauge shows it. */
export type BreakerStateName = 'closed' | 'half-open' | 'open';

/** One state change of a breaker. */
export interface BreakerTransitionRecord {
  /** Seconds from the load start. */
  atS: number;
  from: BreakerStateName;
  to: BreakerStateName;
  /** Cause of the state change, such as `half-open probe succeeded`, or absent when unknown. */
  reason?: string;
}

/** The breaker of one provider/model target over a drill. */
export interface BreakerRecord {
  provider: string;
  model: string;
  /** State at the load start. */
  startState: BreakerStateName;
  /** State at `untilS` of the breaker journal. */
  endState: BreakerStateName;
  /** Seconds the breaker was open, half-open not included, from the load start to `untilS`. */
  openS: number;
  /** State changes in time order. */
  transitions: BreakerTransitionRecord[];
}

/** The breakers of every provider/model target the platform reported over a drill. */
export interface BreakerJournal {
  /** End of the recorded window, in seconds from the load start: when the drill finished. */
  untilS: number;
  targets: BreakerRecord[];
}

export interface DrillJournal {
  name: string;
  steadyState: SteadyStateCheck[];
  faults: FaultRecord[];
  timings: FailoverTiming[];
  aborted: AbortRecord | null;
  rollback: RollbackStep[];
  /** True when the proxy API listed no toxic and every provider reported no fault after rollback. */
  cleanAfterRollback: boolean;
  leftovers: string[];
  /**
   * Breaker states and transitions over the run. Absent in schema version 1 reports, and
   * null when the drill ran against a platform that reports no breakers.
   */
  breakers?: BreakerJournal | null;
}

export interface Report {
  /**
   * 1 in reports written before breakers were recorded, 2 in those written before the queue
   * gauges were, 3 in those written before the series' admission rejections were, and 4 in
   * those written before its failovers per provider pair, the send window and the time behind
   * schedule were, 5 in those written before the providers' bill was, 6 in those written
   * before the series' times to first token were, and 7 in those written before the calls of
   * fallback routes were. 8 is the version written before the series counted the requests
   * that the run's stop cut. Such reports still validate.
   */
  schemaVersion: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | typeof REPORT_SCHEMA_VERSION;
  runId: string;
  createdAt: string;
  environment: Environment;
  scenario: ScenarioSummary;
  verdict: VerdictRecord;
  topologies: TopologyResult[];
  drill: DrillJournal | null;
  /**
   * Comparison with the base policy of `drill --base-policy`, from schema version 4 on. Absent
   * when the drill had no base policy.
   */
  policyChange?: PolicyChangeRecord;
}
