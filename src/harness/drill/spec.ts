/**
 * Drill specs: a steady-state hypothesis, a timeline of faults at offsets from
 * the load start, and abort rules. Offsets and durations are simulated seconds,
 * so a drill run with a time scale of 10 lasts a tenth of its `durationS`.
 */
import type { FaultConfig } from '../../faults/providers/fault-config.js';

/** Series measures computed from the load's per-second time series. */
export const SERIES_MEASURES = [
  'successRate',
  'p95S',
  'failoverRate',
  'queueDepth',
  'queueOldestAgeS',
] as const;
export type SeriesMeasure = (typeof SERIES_MEASURES)[number];
/** Series measures computed as a ratio of the window's counts. */
export type RateMeasure = 'successRate' | 'failoverRate';
/** Series measures of the queue gauges, read once a second; a window takes their maximum. */
export type QueueMeasure = 'queueDepth' | 'queueOldestAgeS';

/** Returns whether a series measure is a queue gauge. */
export function isQueueMeasure(measure: SeriesMeasure): measure is QueueMeasure {
  return measure === 'queueDepth' || measure === 'queueOldestAgeS';
}

/**
 * One steady-state probe. `min` passes when value >= threshold - tolerance,
 * `max` when value <= threshold + tolerance. `p95S` is the 95th percentile over every
 * request that ended in the window, the rates divide the window's counts, and the queue
 * measures are the maximum of the window's per-second reads.
 */
export interface ProbeSpec {
  name: string;
  /** `series` reads the running load's time series; `metrics` reads one Prometheus sample. */
  source: 'series' | 'metrics';
  /** A {@link SeriesMeasure} for `series`, a metric name (with labels, if any) for `metrics`. */
  measure: string;
  comparator: 'min' | 'max';
  threshold: number;
  tolerance: number;
  /** Tolerance in the `during` windows, the seconds in which a fault is active. @defaultValue `tolerance` */
  duringTolerance?: number;
  /**
   * False leaves the probe out of the `during` windows, for a measure that faults are
   * expected to move. The report marks it as not checked there. @defaultValue true
   */
  checkDuring?: boolean;
}

/** Stops the drill when a series measure breaches its threshold for `forS` consecutive seconds. */
export interface AbortRule {
  name: string;
  measure: SeriesMeasure;
  comparator: 'below' | 'above';
  threshold: number;
  forS: number;
}

interface StepTiming {
  /** Unique id; toxics are named `scalegate-drill-<id>`. */
  id: string;
  atS: number;
  durationS: number;
}

export const TOXIC_TYPES = [
  'latency',
  'timeout',
  'reset_peer',
  'bandwidth',
  'slow_close',
  'slicer',
  'limit_data',
] as const;
export type ToxicType = (typeof TOXIC_TYPES)[number];

/** A Toxiproxy toxic added to one proxy for the step's window. */
export interface ToxicStep extends StepTiming {
  kind: 'toxic';
  proxy: string;
  toxic: {
    type: ToxicType;
    /** @defaultValue 'downstream' */
    stream?: 'upstream' | 'downstream';
    /** @defaultValue 1 */
    toxicity?: number;
    attributes: Record<string, number>;
  };
}

/** A fault mode set on a mock provider through its control endpoint. */
export interface ProviderFaultStep extends StepTiming {
  kind: 'provider-fault';
  provider: string;
  faults: FaultConfig;
  /** When set, the journal measures detection and recovery times against this fallback provider. */
  failover?: { fallback: string };
}

/** An extra load stream from one tenant at a multiple of its quota. */
export interface TenantBurstStep extends StepTiming {
  kind: 'tenant-burst';
  tenant: string;
  quotaMultiplier: number;
}

/**
 * Pauses every async worker of the platform for the step's window, then resumes them.
 * Running tasks finish, no queued task starts, so the queue backs up as when the worker
 * fleet is lost. Sync tasks do not use these workers.
 */
export interface WorkerPauseStep extends StepTiming {
  kind: 'worker-pause';
}

export type FaultStep = ToxicStep | ProviderFaultStep | TenantBurstStep | WorkerPauseStep;
export type InfraFaultStep = ToxicStep | ProviderFaultStep;

export interface DrillSpec {
  name: string;
  description: string;
  /** Name of the workload scenario that drives the main load stream. */
  scenario: string;
  durationS: number;
  steadyState: {
    probes: ProbeSpec[];
    /**
     * Seconds after the faults end before the steady state is checked again: in the
     * `after` window once the last fault ends, and in a `between` window in a gap between
     * faults. The seconds of this settling time belong to no window.
     */
    settleS: number;
  };
  faults: FaultStep[];
  abortRules: AbortRule[];
  /** Seconds between abort-rule checks and metric scrapes. @defaultValue 1 */
  probeIntervalS?: number;
}

/** Returns the toxic name that a drill step uses on the proxy. */
export function toxicName(step: ToxicStep): string {
  return `scalegate-drill-${step.id}`;
}
