import type { Clock } from '../../platform/clock.js';
import type { LatencyBySecond } from '../load/latency-by-second.js';
import type {
  BackpressureRecord,
  BreakerStateName,
  RollbackStep,
  SeriesPoint,
  ShedCount,
  TopologyResult,
} from '../report/types.js';
import type { InfraFaultStep, TenantBurstStep } from './spec.js';

/** Load stream request that the runner sends to the load layer. */
export type LoadRequest =
  { kind: 'main'; scenario: string; durationS: number } | { kind: 'burst'; step: TenantBurstStep };

/** A running load stream; `t` in its series counts simulated seconds from `started`. */
export interface LoadStream {
  /**
   * Resolves with the clock's monotonic time in ms at which second 0 of the stream's series
   * starts: when its set-up (trace, target probe, schedule) is done and its first scheduled
   * send is due. Rejects with the stream's error when the set-up fails.
   */
  readonly started: Promise<number>;
  /** Per-second points completed so far. */
  series(): readonly SeriesPoint[];
  /**
   * Latencies per second of the stream's requests, keyed like the `timeSeries` of
   * `result`; filled as requests end and complete once `result` settles.
   */
  readonly latencyBySecond: LatencyBySecond;
  /** Stops sending; `result` settles once in-flight requests finish. */
  stop(): void;
  readonly result: Promise<TopologyResult>;
}

/** Applies and removes infrastructure faults: toxics on the proxy, fault modes on providers. */
export interface FaultDriver {
  apply(step: InfraFaultStep): Promise<void>;
  remove(step: InfraFaultStep): Promise<void>;
  /** Removes every fault the steps may have left and returns one entry per step, failed ones included. */
  rollback(steps: readonly InfraFaultStep[]): Promise<RollbackStep[]>;
  /** Lists what is still active after rollback, such as `toxic provider-b/scalegate-drill-x`. */
  leftovers(steps: readonly InfraFaultStep[]): Promise<string[]>;
}

/** A change of one provider/model breaker's state. */
export interface BreakerChangeAt {
  provider: string;
  model: string;
  from: BreakerStateName;
  to: BreakerStateName;
  /** Cause of the state change, or absent when unknown. */
  reason?: string;
  /** Time of the change on the drill clock's monotonic time, in milliseconds. */
  atMs: number;
}

/** A watch over the circuit breakers of the platform under test. */
export interface BreakerWatch {
  /** Each breaker and its state when the watch started. */
  readonly initial: readonly { provider: string; model: string; state: BreakerStateName }[];
  /** Returns the changes since the watch started, in the order they happened. */
  changes(): readonly BreakerChangeAt[];
  /** Stops recording changes. */
  stop(): void;
}

/** The async workers of the platform under test, which a `worker-pause` step pauses. */
export interface DrillWorkers {
  /** Async worker slots of the topology. */
  readonly slots: number;
  readonly paused: boolean;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Reads the requests backpressure shed since the platform started, by tenant and status. */
  readShed(): Promise<ShedCount[]>;
  /** Queue limits at which the gateway sheds each class. */
  readonly backpressure: BackpressureRecord;
}

/** Everything the drill runner touches outside itself, injected so tests can replace it. */
export interface DrillDeps {
  /** Simulated time; a scaled clock compresses the drill. */
  clock: Clock;
  startLoad(request: LoadRequest, signal: AbortSignal): LoadStream;
  faults: FaultDriver;
  /** Scrapes Prometheus samples keyed by `name{labels}`; needed only by `metrics` probes. */
  readMetrics?: () => Promise<Record<string, number>>;
  /**
   * Starts watching the platform's circuit breakers, as the load starts. Without it the
   * report's `drill.breakers` is null.
   */
  watchBreakers?: () => BreakerWatch;
  /** The platform's async workers; a drill with a `worker-pause` step needs them. */
  workers?: DrillWorkers;
  onEvent?: (event: DrillEvent) => void;
}

/** Progress events for a live status line. */
export type DrillEvent =
  | { type: 'fault-applied'; stepId: string; atS: number }
  | { type: 'fault-removed'; stepId: string; atS: number }
  | { type: 'fault-failed'; stepId: string; atS: number; error: unknown }
  | { type: 'tick'; atS: number; point: SeriesPoint | undefined }
  | { type: 'aborting'; atS: number; detail: string }
  | { type: 'rolled-back'; clean: boolean; leftovers: string[] }
  /** A finding before the platform starts that predicts a failure, such as a route with no fallback. */
  | { type: 'warning'; detail: string };
