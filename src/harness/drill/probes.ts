import type { DrillPhase, ProbeResult, SeriesPoint, SteadyStateCheck } from '../report/types.js';
import { measureWindow, pointsIn } from './measures.js';
import type { DrillSpec, ProbeSpec, SeriesMeasure } from './spec.js';

/** One Prometheus scrape taken during the drill, at `atS` seconds from the load start. */
export interface MetricSample {
  atS: number;
  values: Record<string, number>;
}

interface Window {
  phase: DrillPhase;
  fromS: number;
  toS: number;
}

/** Splits the drill into before (until the first fault), during, and after (once settled). */
export function phaseWindows(spec: DrillSpec, endedAtS: number): Window[] {
  const starts = spec.faults.map((step) => step.atS);
  const ends = spec.faults.map((step) => step.atS + step.durationS);
  const firstStart = starts.length > 0 ? Math.min(...starts) : spec.durationS;
  const lastEnd = ends.length > 0 ? Math.max(...ends) : spec.durationS;
  const settled = Math.min(lastEnd + spec.steadyState.settleS, spec.durationS);
  const clip = (value: number): number => Math.min(value, endedAtS);
  return [
    { phase: 'before', fromS: 0, toS: clip(firstStart) },
    { phase: 'during', fromS: firstStart, toS: clip(lastEnd) },
    { phase: 'after', fromS: settled, toS: clip(spec.durationS) },
  ];
}

function lastMetric(samples: readonly MetricSample[], window: Window, name: string): number | null {
  const inside = samples.filter((sample) => sample.atS >= window.fromS && sample.atS <= window.toS);
  const value = inside.at(-1)?.values[name];
  return value === undefined ? null : value;
}

function probeValue(
  probe: ProbeSpec,
  window: Window,
  series: readonly SeriesPoint[],
  samples: readonly MetricSample[],
): number | null {
  if (probe.source === 'metrics') {
    return lastMetric(samples, window, probe.measure);
  }
  return measureWindow(pointsIn(series, window.fromS, window.toS), probe.measure as SeriesMeasure);
}

function evaluate(probe: ProbeSpec, phase: DrillPhase, value: number | null): ProbeResult {
  const tolerance =
    phase === 'during' ? (probe.duringTolerance ?? probe.tolerance) : probe.tolerance;
  const passed =
    value !== null &&
    (probe.comparator === 'min'
      ? value >= probe.threshold - tolerance
      : value <= probe.threshold + tolerance);
  const { name, measure, comparator, threshold } = probe;
  return { name, metric: measure, comparator, threshold, tolerance, value, passed };
}

/** Checks every probe of the steady-state hypothesis in each phase window. */
export function checkSteadyState(
  spec: DrillSpec,
  endedAtS: number,
  series: readonly SeriesPoint[],
  samples: readonly MetricSample[],
): SteadyStateCheck[] {
  return phaseWindows(spec, endedAtS)
    .filter((window) => window.toS > window.fromS)
    .map((window) => {
      const probes = spec.steadyState.probes.map((probe) =>
        evaluate(probe, window.phase, probeValue(probe, window, series, samples)),
      );
      return { ...window, passed: probes.every((probe) => probe.passed), probes };
    });
}
