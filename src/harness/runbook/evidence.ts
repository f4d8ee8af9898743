/** Evidence of one fault in a drill report, and the helpers that word it for a runbook. */
import { percent } from '../report/format.js';
import { pointsIn } from '../drill/measures.js';
import { rateShare, sumRate } from './commands.js';
import type {
  FaultRecord,
  ProbeResult,
  Report,
  SeriesPoint,
  TopologyResult,
} from '../report/types.js';

/** A signal an operator watches: the metric (Markdown), its threshold and what the drill measured. */
export interface Signal {
  metric: string;
  threshold: string;
  measured: string;
}

/** One incident the drill exercised, with every number taken from its report. */
export interface Incident {
  /** Groups the same incident across reports, such as `provider-outage:provider-a`. */
  key: string;
  title: string;
  /** Description of the fault and of what the platform's users see, in one or two sentences. */
  symptom: string;
  /** The injected settings, target and window, such as `provider-a: ..., 20.0 to 50.0 s`. */
  injected: string;
  signals: Signal[];
  systemActions: string[];
  operatorSteps: string[];
  verification: string[];
}

export interface Evidence {
  report: Report;
  result: TopologyResult;
  fault: FaultRecord;
}

export function windowOf(fault: FaultRecord): [number, number] {
  return [fault.appliedAtS ?? fault.startS, fault.removedAtS ?? fault.endS];
}

export function faultPoints(evidence: Evidence): SeriesPoint[] {
  const [from, to] = windowOf(evidence.fault);
  return pointsIn(evidence.result.timeSeries, Math.floor(from), Math.ceil(to));
}

/** Steady-state window of a fault that a runbook line reads. */
type FaultWindow = 'during' | 'recovery';

/**
 * Returns the probe of `metric` in a window of the fault. `during` is the during window
 * that contains the fault's planned start. `recovery` is the first between or after window
 * that opens once the fault has ended.
 */
export function probe(
  evidence: Evidence,
  window: FaultWindow,
  metric: string,
): ProbeResult | undefined {
  const { report, fault } = evidence;
  const check = report.drill?.steadyState.find((entry) =>
    window === 'during'
      ? entry.phase === 'during' && entry.fromS <= fault.startS && fault.startS < entry.toS
      : (entry.phase === 'between' || entry.phase === 'after') && entry.fromS >= fault.endS,
  );
  return check?.probes.find((entry) => entry.metric === metric);
}

/**
 * Builds the signal of a steady-state probe. `label` names what the load generator measured,
 * which no metric exports, and `onMetrics` the closest expression over the platform's metrics.
 */
export function probeSignal(
  label: string,
  onMetrics: string,
  result: ProbeResult | undefined,
  format: (value: number) => string,
): Signal {
  const metric = `${label} (load generator); on \`/metrics\`: ${onMetrics}`;
  if (result === undefined) {
    return { metric, threshold: 'not in the hypothesis', measured: 'not measured' };
  }
  const threshold = limitText(result);
  const measured =
    result.value === null
      ? 'no data'
      : `${format(result.value)} (${outcomeText(result, 'pass', 'fail')})`;
  return { metric, threshold, measured };
}

export function probeLine(
  result: ProbeResult | undefined,
  format: (value: number) => string,
): string {
  if (result === undefined || result.value === null) {
    return 'not measured';
  }
  const outcome = outcomeText(
    result,
    beyondThreshold(result) ? 'within the tolerance of' : 'within',
    'outside',
  );
  return `${format(result.value)} (${outcome}${result.passed === null ? '' : ` ${limitText(result)}`})`;
}

/** Returns whether a probe's value lies past its threshold, so only the tolerance let it pass. */
function beyondThreshold(result: ProbeResult): boolean {
  if (result.value === null) return false;
  return result.comparator === 'min'
    ? result.value < result.threshold
    : result.value > result.threshold;
}

/** Words a probe's outcome, so a probe that could not fail in its window reads as unchecked. */
function outcomeText(result: ProbeResult, passed: string, failed: string): string {
  if (result.passed === null) {
    return `not checked in this phase: ${result.notChecked ?? 'no reason recorded'}`;
  }
  return result.passed ? passed : failed;
}

/**
 * Formats a probe's one-sided limit, such as `min 0.99, passes from 0.94`: the tolerance
 * widens the limit on its side only.
 */
function limitText(result: ProbeResult): string {
  if (result.tolerance === 0) return `${result.comparator} ${result.threshold}`;
  const edge = passEdge(result);
  const passes = result.comparator === 'min' ? `passes from ${edge}` : `passes up to ${edge}`;
  return `${result.comparator} ${result.threshold}, ${passes}`;
}

/** Returns the last value a probe passes at: its threshold widened by the tolerance. */
export function passEdge(result: ProbeResult): number {
  const min = result.comparator === 'min';
  return roundLimit(
    min ? result.threshold - result.tolerance : result.threshold + result.tolerance,
  );
}

/** Rounds a limit to 6 decimals, so 0.99 - 0.05 prints as 0.94. */
function roundLimit(value: number): number {
  return Number(value.toFixed(6));
}

/**
 * Returns the lowest or highest value that `pick` reads from the seconds where `counted` is
 * above 0. By default these are the seconds with requests. Returns null when there is none.
 */
export function worstSecond(
  points: readonly SeriesPoint[],
  pick: (point: SeriesPoint) => number,
  lowest: boolean,
  counted: (point: SeriesPoint) => number = (point) => point.requests,
): number | null {
  const values = points.filter((point) => counted(point) > 0).map(pick);
  if (values.length === 0) {
    return null;
  }
  return lowest ? Math.min(...values) : Math.max(...values);
}

export function orNa(value: number | null, format: (value: number) => string): string {
  return value === null ? 'n/a' : format(value);
}

/** Returns the seconds of a report before its first fault, as a baseline. */
export function pointsBeforeFaults(report: Report, result: TopologyResult): SeriesPoint[] {
  const firstS = Math.min(...(report.drill?.faults.map((fault) => fault.startS) ?? []));
  return pointsIn(result.timeSeries, 0, Number.isFinite(firstS) ? firstS : 0);
}

/** Builds the success-rate signal; the platform counts rejected requests apart from its tasks. */
export function successSignal(result: ProbeResult | undefined): Signal {
  return probeSignal(
    'success rate while faults were active',
    `${rateShare('scalegate_requests_total{outcome="succeeded"}', 'scalegate_requests_total')}, ` +
      `which leaves out rejected requests, \`${sumRate('scalegate_gateway_rejections_total')}\``,
    result,
    percent,
  );
}
