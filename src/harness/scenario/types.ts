/**
 * Workload scenario specs: what traffic to send, from which tenants, to which
 * routes, and which service-level objectives the run must meet. Specs are
 * plain data so that the embedded engine and the k6 compiler read the same
 * object.
 */

/** A distribution for a task size, drawn with the run's seeded generator. */
export type Distribution =
  | { kind: 'constant'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  /** Lognormal fitted to a median and a 95th percentile. */
  | { kind: 'lognormal'; median: number; p95: number };

/** Poisson arrivals at a fixed mean rate. */
export interface ConstantArrival {
  kind: 'constant';
  ratePerSec: number;
}

/** One ramp stage: the rate moves linearly to `targetRatePerSec` over `durationSec`. */
export interface RampStage {
  durationSec: number;
  targetRatePerSec: number;
}

/** Poisson arrivals whose rate follows linear stages, as k6's ramping-arrival-rate does. */
export interface RampArrival {
  kind: 'ramp';
  startRatePerSec: number;
  stages: RampStage[];
}

/** A burst window, in seconds from the start of the run. */
export interface BurstWindow {
  startSec: number;
  durationSec: number;
}

/** Poisson arrivals at `baseRatePerSec`, switching to `burstRatePerSec` inside each window. */
export interface BurstArrival {
  kind: 'burst';
  baseRatePerSec: number;
  burstRatePerSec: number;
  windows: BurstWindow[];
}

/** Replay of a recorded trace's arrival times, compressed by `speedUp`. */
export interface TraceArrival {
  kind: 'trace';
  /** CSV file with `TIMESTAMP,ContextTokens,GeneratedTokens` columns, relative to the working directory. */
  file: string;
  /** Factor that divides every inter-arrival gap; 6 sends one hour of trace in 10 minutes. */
  speedUp: number;
  /** Trace window in trace seconds (before the speed-up), counted from the first row. */
  window?: { startSec: number; durationSec: number };
  /** Maximum number of rows to replay. */
  limit?: number;
}

export type ArrivalProfile = ConstantArrival | RampArrival | BurstArrival | TraceArrival;
export type ArrivalKind = ArrivalProfile['kind'];

export interface TenantShare {
  /** Tenant id; its API key comes from the demo key file. */
  tenantId: string;
  weight: number;
  /**
   * Sizes of this tenant's tasks in place of the scenario's `tasks`, so one tenant can send
   * other work than the rest, such as long agent tasks. @defaultValue the scenario's tasks
   */
  tasks?: DistributionTasks;
  /** Sync and async weights of this tenant's tasks. @defaultValue the scenario's modes */
  modes?: ModeMix;
}

export interface RouteShare {
  route: string;
  weight: number;
}

/** Relative weights of synchronous and asynchronous submissions. */
export interface ModeMix {
  sync: number;
  async: number;
}

/** One kind of task and its size distributions. */
export interface TaskKind {
  name: string;
  weight: number;
  inputTokens: Distribution;
  outputTokens: Distribution;
  /** Agent steps, each one model call followed by a tool wait. @defaultValue 1 */
  steps?: Distribution;
  toolWaitMs?: Distribution;
}

/** Task sizes drawn from distributions, each kind picked by its weight. */
export interface DistributionTasks {
  source: 'distribution';
  kinds: TaskKind[];
}

/** Task sizes taken from the replayed trace rows, or drawn from distributions. */
export type TaskSizes = { source: 'trace' } | DistributionTasks;

/** Limits that a run, or one tenant's share of it, must meet. */
export interface SloLimits {
  /** Minimum fraction of finished requests that succeed, from 0 to 1 (see LoadResult.successRate). */
  successRate?: number;
  p50LatencyMs?: number;
  p95LatencyMs?: number;
  p99LatencyMs?: number;
}

export interface SloSpec extends SloLimits {
  perTenant?: Record<string, SloLimits>;
}

/** A complete workload scenario. */
export interface ScenarioSpec {
  name: string;
  description: string;
  /** Gateway base URL, such as `http://127.0.0.1:8080`. */
  target: string;
  durationSec: number;
  arrival: ArrivalProfile;
  tenants: TenantShare[];
  routes: RouteShare[];
  tasks: TaskSizes;
  modes: ModeMix;
  slo: SloSpec;
}
