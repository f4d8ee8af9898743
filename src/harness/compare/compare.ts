import { fairnessWarnings } from './fairness.js';
import { METRIC_KEYS, type MetricKey, type RunRecord } from './run.js';
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
  /** Change of the median from the baseline's median, in percent; null for the baseline. */
  changePercent: number | null;
  /** Whether the ranges overlap the baseline's; null for the baseline. */
  noise: NoiseMark | null;
}

export interface FigureRow {
  metric: MetricKey;
  /** One entry per group, the baseline first. */
  groups: GroupFigure[];
}

/** Settings of a group's runs: each distinct value, in the order of first appearance. */
export interface GroupSummary {
  label: string;
  files: string[];
  topologies: string[];
  /** Policy paths with the first 12 hex digits of their hash, such as `policies/default.yaml e424de080eba`. */
  policies: string[];
  seeds: number[];
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

function figureRow(groups: readonly RunGroup[], metric: MetricKey): FigureRow {
  const stats = groups.map((group) => figureStats(group.runs.map((run) => run.figures[metric])));
  const [base] = stats;
  return {
    metric,
    groups: stats.map((group, index) => ({
      ...group,
      changePercent:
        index === 0 || base === undefined ? null : percentChange(base.median, group.median),
      noise: index === 0 || base === undefined ? null : noiseMark(base, group),
    })),
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
  };
}

function describePolicy(run: RunRecord): string {
  if (run.policyHash === null) return 'not recorded (--target)';
  return `${run.policyPath ?? 'path not recorded'} ${run.policyHash.slice(0, 12)}`;
}
