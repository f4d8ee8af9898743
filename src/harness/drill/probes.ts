import type { LatencyBySecond } from '../load/latency-by-second.js';
import type { DrillPhase, ProbeResult, SeriesPoint, SteadyStateCheck } from '../report/types.js';
import { measureWindow, pointsIn, queueMax, windowP95 } from './measures.js';
import { vacuousLimitReason } from './probe-range.js';
import {
  type DrillSpec,
  type FaultStep,
  isQueueMeasure,
  type ProbeSpec,
  type SeriesMeasure,
} from './spec.js';

/** One Prometheus scrape taken during the drill, at `atS` seconds from the load start. */
export interface MetricSample {
  atS: number;
  values: Record<string, number>;
}

/** A time span in seconds from the load start, from `fromS` up to `toS`. */
export interface Interval {
  fromS: number;
  toS: number;
}

interface Window extends Interval {
  phase: DrillPhase;
}

/**
 * Merges the fault steps' planned intervals into the stretches in which at least one fault
 * is active, in time order. Faults that overlap or meet end to end form one stretch.
 */
export function faultIntervals(faults: readonly FaultStep[]): Interval[] {
  const sorted = faults
    .map((step) => ({ fromS: step.atS, toS: step.atS + step.durationS }))
    .sort((a, b) => a.fromS - b.fromS);
  const merged: Interval[] = [];
  for (const interval of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && interval.fromS <= last.toS) {
      last.toS = Math.max(last.toS, interval.toS);
    } else {
      merged.push({ ...interval });
    }
  }
  return merged;
}

/** True when [fromS, toS) contains at least one whole second, so series probes have data. */
export function holdsWholeSecond(interval: Interval): boolean {
  return Math.ceil(interval.fromS) + 1 <= interval.toS;
}

/**
 * Splits the drill into windows. `before` runs until the first fault. Each stretch in which
 * a fault is active is a `during` window. A gap between two stretches is a `between` window
 * from `settleS` after the first ends, and is left out when that leaves no whole second.
 * `after` opens `settleS` after the last fault ends. The settling seconds belong to no
 * window, and every window ends by `endedAtS`.
 */
export function phaseWindows(spec: DrillSpec, endedAtS: number): Window[] {
  const intervals = faultIntervals(spec.faults);
  const { settleS } = spec.steadyState;
  const windows: Window[] = [
    { phase: 'before', fromS: 0, toS: intervals[0]?.fromS ?? spec.durationS },
  ];
  intervals.forEach((interval, index) => {
    windows.push({ phase: 'during', ...interval });
    const next = intervals[index + 1];
    const gap = { fromS: interval.toS + settleS, toS: next?.fromS ?? 0 };
    if (next !== undefined && holdsWholeSecond(gap)) {
      windows.push({ phase: 'between', ...gap });
    }
  });
  const lastEnd = intervals.at(-1)?.toS;
  if (lastEnd !== undefined) {
    windows.push({ phase: 'after', fromS: lastEnd + settleS, toS: spec.durationS });
  }
  return windows.map((window) => ({ ...window, toS: Math.min(window.toS, endedAtS) }));
}

function lastMetric(samples: readonly MetricSample[], window: Window, name: string): number | null {
  const inside = samples.filter((sample) => sample.atS >= window.fromS && sample.atS <= window.toS);
  const value = inside.at(-1)?.values[name];
  return value === undefined ? null : value;
}

/** Data that the probes read. */
interface ProbeInputs {
  series: readonly SeriesPoint[];
  latencies: LatencyBySecond;
  samples: readonly MetricSample[];
}

function probeValue(probe: ProbeSpec, window: Window, inputs: ProbeInputs): number | null {
  if (probe.source === 'metrics') {
    return lastMetric(inputs.samples, window, probe.measure);
  }
  const points = pointsIn(inputs.series, window.fromS, window.toS);
  const measure = probe.measure as SeriesMeasure;
  if (isQueueMeasure(measure)) return queueMax(points, measure);
  return measure === 'p95S' ? windowP95(points, inputs.latencies) : measureWindow(points, measure);
}

/** Returns the tolerance of a probe in a phase. */
export function toleranceIn(probe: ProbeSpec, phase: DrillPhase): number {
  return phase === 'during' ? (probe.duringTolerance ?? probe.tolerance) : probe.tolerance;
}

/** Returns why a probe is not checked in a phase, or undefined when it is checked. */
export function notCheckedReason(probe: ProbeSpec, phase: DrillPhase): string | undefined {
  if (phase === 'during' && probe.checkDuring === false) {
    return 'the drill spec leaves it out of the during windows (checkDuring: false)';
  }
  return vacuousLimitReason(probe, toleranceIn(probe, phase));
}

/**
 * Returns why a probe that read no data in `window` is not checked there, or undefined when
 * the empty window counts as a failure. A window without a whole second, such as one that an
 * abort cut 20 ms after a fault started, cannot contain a point of the per-second series. Its
 * lack of data is then no failure of the platform. A `metrics` probe follows the same rule,
 * because its scrapes come once per probe interval, 1 s by default.
 */
function noDataReason(window: Window, value: number | null): string | undefined {
  if (value !== null || holdsWholeSecond(window)) return undefined;
  const span = `${formatSeconds(window.fromS)}-${formatSeconds(window.toS)} s`;
  return `the window ${span} contains no whole second, so it cannot contain a sample`;
}

function formatSeconds(value: number): string {
  return String(Number(value.toFixed(2)));
}

function evaluate(probe: ProbeSpec, window: Window, value: number | null): ProbeResult {
  const { phase } = window;
  const tolerance = toleranceIn(probe, phase);
  const { name, measure, comparator, threshold } = probe;
  const base = { name, metric: measure, comparator, threshold, tolerance, value };
  const reason = notCheckedReason(probe, phase) ?? noDataReason(window, value);
  if (reason !== undefined) {
    return { ...base, passed: null, notChecked: reason };
  }
  const passed =
    value !== null &&
    (comparator === 'min' ? value >= threshold - tolerance : value <= threshold + tolerance);
  return { ...base, passed };
}

function windowPassed(probes: readonly ProbeResult[]): boolean | null {
  const checked = probes.filter((probe) => probe.passed !== null);
  return checked.length === 0 ? null : checked.every((probe) => probe.passed === true);
}

/**
 * Checks every probe of the steady-state hypothesis in each phase window. Series probes
 * read the rates from `series` and the p95 from the per-second latencies in `latencies`,
 * which must be keyed by the same seconds as `series`. A probe without data in a window
 * that contains no whole second is not checked there, with the reason in `notChecked`.
 */
export function checkSteadyState(
  spec: DrillSpec,
  endedAtS: number,
  inputs: ProbeInputs,
): SteadyStateCheck[] {
  return phaseWindows(spec, endedAtS)
    .filter((window) => window.toS > window.fromS)
    .map((window) => {
      const probes = spec.steadyState.probes.map((probe) =>
        evaluate(probe, window, probeValue(probe, window, inputs)),
      );
      return { ...window, passed: windowPassed(probes), probes };
    });
}
