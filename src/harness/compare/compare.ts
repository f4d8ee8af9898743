import { roundUsd } from '../../platform/cost/usd.js';
import { fairnessWarnings } from './fairness.js';
import {
  INPUT_METRIC_KEYS,
  METRIC_KEYS,
  type MetricKey,
  type RunRecord,
  USD_METRIC_KEYS,
} from './run.js';
import {
  type FigureStats,
  figureStats,
  type NoiseMark,
  noiseMark,
  percentChange,
} from './stats.js';

/** Runs of one side of a comparison, such as several repeats of one topology. */
export interface RunGroup {
  /** Column heading, such as `base` or a file name. */
  label: string;
  runs: RunRecord[];
}

/** One figure of one group, and how it compares with the baseline's. */
export interface GroupFigure extends FigureStats {
  /**
   * True when a run's value is a lower bound, such as a latency percentile of a run with
   * aborted requests. The median and the range are then lower bounds too.
   */
  lowerBound: boolean;
  /** True when two or more runs measured the figure and all gave one value, so the range is no noise band. */
  identicalRuns: boolean;
  /**
   * Change of the median from the baseline's median, in percent. Null for the baseline, and
   * when both medians are lower bounds, because the change is then unknown.
   */
  changePercent: number | null;
  /**
   * Kind of bound that `changePercent` is: `atLeast` when this median is a lower bound, and
   * `atMost` when the baseline's is. Null when the change is exact or null.
   */
  changeBound: ChangeBound | null;
  /**
   * Whether the ranges overlap the baseline's. It is null for the baseline and for an input
   * figure such as the offered rate, and `unknown` beside a lower bound.
   */
  noise: NoiseMark | null;
}

export type ChangeBound = 'atLeast' | 'atMost';

export interface FigureRow {
  metric: MetricKey;
  /** One entry per group, the baseline first. */
  groups: GroupFigure[];
  /** Runs that did not measure the figure for a recorded reason, in the order given. */
  unmeasured: { file: string; reason: string }[];
}

/** Settings of a group's runs: each distinct value, in the order of first appearance. */
export interface GroupSummary {
  label: string;
  files: string[];
  topologies: string[];
  /** Policy paths with the first 12 hex digits of their hash, such as `policies/default.yaml e424de080eba`. */
  policies: string[];
  seeds: number[];
  /** Requests each run sent, in the order of `files`. */
  requestsSent: number[];
}

/** Result of `scalegate compare`, printed as a table or as JSON. */
export interface Comparison {
  groups: GroupSummary[];
  rows: FigureRow[];
  /** True when every group has two or more runs, so differences can be weighed against noise. */
  noiseBand: boolean;
  warnings: string[];
}

/** Compares each group with the first one, the baseline. */
export function compareGroups(groups: readonly RunGroup[]): Comparison {
  return {
    groups: groups.map(summarizeGroup),
    rows: METRIC_KEYS.map((metric) => figureRow(groups, metric)),
    noiseBand: groups.every((group) => group.runs.length >= 2),
    warnings: fairnessWarnings(groups),
  };
}

/** Statistics of one figure of one group, before the comparison with the baseline. */
type GroupStats = FigureStats & Pick<GroupFigure, 'lowerBound' | 'identicalRuns'>;

function figureRow(groups: readonly RunGroup[], metric: MetricKey): FigureRow {
  const stats = groups.map((group) => groupStats(group, metric));
  const [base] = stats;
  const unmeasured = groups.flatMap((group) =>
    group.runs.flatMap((run) => {
      const reason = run.unmeasured[metric];
      return reason === undefined ? [] : [{ file: run.file, reason }];
    }),
  );
  return {
    metric,
    unmeasured,
    groups: stats.map((group, index) =>
      index === 0 || base === undefined
        ? { ...group, changePercent: null, changeBound: null, noise: null }
        : { ...group, ...changeFrom(base, group, INPUT_METRIC_KEYS.has(metric)) },
    ),
  };
}

function groupStats(group: RunGroup, metric: MetricKey): GroupStats {
  const stats = figureStats(group.runs.map((run) => run.figures[metric]));
  // The median of an even count of runs adds two figures, which can add float noise.
  if (USD_METRIC_KEYS.has(metric) && stats.median !== null) stats.median = roundUsd(stats.median);
  return {
    ...stats,
    lowerBound: group.runs.some(
      (run) => run.figures[metric] !== null && run.lowerBounds.includes(metric),
    ),
    identicalRuns: stats.values.length >= 2 && stats.min === stats.max,
  };
}

/**
 * Compares a group's median with the baseline's. The change of an input figure, which
 * `INPUT_METRIC_KEYS` lists, is not weighed against noise. A larger true value can only raise a median,
 * so a lower-bound median bounds the change from one side, and two of them leave it unknown.
 */
function changeFrom(
  base: GroupStats,
  group: GroupStats,
  input: boolean,
): Pick<GroupFigure, 'changePercent' | 'changeBound' | 'noise'> {
  if (!base.lowerBound && !group.lowerBound) {
    const changePercent = percentChange(base.median, group.median);
    return { changePercent, changeBound: null, noise: input ? null : noiseMark(base, group) };
  }
  if (base.lowerBound && group.lowerBound) {
    return { changePercent: null, changeBound: null, noise: 'unknown' };
  }
  const changePercent = percentChange(base.median, group.median);
  const bound: ChangeBound = group.lowerBound ? 'atLeast' : 'atMost';
  return {
    changePercent,
    changeBound: changePercent === null ? null : bound,
    noise: 'unknown',
  };
}

function summarizeGroup(group: RunGroup): GroupSummary {
  const distinct = <T>(values: readonly T[]): T[] => [...new Set(values)];
  return {
    label: group.label,
    files: group.runs.map((run) => run.file),
    topologies: distinct(group.runs.map((run) => run.topology ?? 'not recorded (--target)')),
    policies: distinct(group.runs.map(describePolicy)),
    seeds: distinct(group.runs.map((run) => run.seed)),
    requestsSent: group.runs.map((run) => run.requestsSent),
  };
}

function describePolicy(run: RunRecord): string {
  if (run.policyHash === null) return 'not recorded (--target)';
  return `${run.policyPath ?? 'path not recorded'} ${run.policyHash.slice(0, 12)}`;
}
