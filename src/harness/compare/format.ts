import { percent, seconds, usd } from '../report/format.js';
import type { ChangeBound, Comparison, FigureRow, GroupFigure, GroupSummary } from './compare.js';
import type { MetricKey } from './run.js';

/**
 * Formats a latency in seconds as `load` prints it: whole milliseconds below 1 s, such as
 * `4 ms`, so a gateway's few milliseconds do not print as `0.00 s`, and `2.06 s` above.
 */
export function formatLatency(value: number): string {
  const milliseconds = Math.round(value * 1000);
  return milliseconds < 1000 ? `${milliseconds} ms` : seconds(value);
}

/** Row heading and value format of each figure. */
export const METRIC_FORMATS: Record<
  MetricKey,
  { label: string; format: (value: number) => string }
> = {
  offeredRpm: { label: 'offered rate', format: (value) => `${value.toFixed(0)} rpm` },
  throughputRpm: { label: 'completed throughput', format: (value) => `${value.toFixed(0)} rpm` },
  succeededRpm: { label: 'succeeded throughput', format: (value) => `${value.toFixed(0)} rpm` },
  successRate: { label: 'success rate', format: percent },
  p50LatencyS: { label: 'p50 latency', format: formatLatency },
  p95LatencyS: { label: 'p95 latency', format: formatLatency },
  p99LatencyS: { label: 'p99 latency', format: formatLatency },
  meanUsdPerTask: { label: 'mean cost per task', format: usd },
  p95UsdPerTask: { label: 'p95 cost per task', format: usd },
  usdPerSucceeded: { label: 'cost per succeeded request', format: usd },
  workerPoolUsd: { label: 'worker pool bill', format: usd },
};

/** Footnote of a change marked `*`. */
const IDENTICAL_NOTE =
  "* The runs of a side gave identical values for this figure, so that side's range is no noise band, and even a small change shows as beyond noise.";

/** Note on changes marked `noise unknown`. */
const NOISE_UNKNOWN_NOTE =
  "A change marked 'noise unknown' has a side on which fewer than two runs measured the figure, so that side has no range to weigh it against.";

/** Note on cells marked `>=` or `<=`. */
export const LOWER_BOUND_NOTE =
  "A figure marked '>=' is a lower bound, and so is its range, because aborted requests count with the time they had waited. Its change is then a bound too ('>=' or '<='), or n/a when both sides are lower bounds.";

/** Spaces between table columns. */
const COLUMN_GAP = 3;

/**
 * Formats a comparison as a plain-text table, one column per group and a `vs baseline`
 * column after each group but the first, followed by notes and `warning:` lines.
 */
export function formatComparison(comparison: Comparison): string[] {
  const header = [
    '',
    ...comparison.groups.flatMap((group, index) => columns(index, group.label, 'vs baseline')),
  ];
  const identity = [
    identityRow('topology', comparison, (group) => group.topologies.join(', ')),
    identityRow('policy', comparison, (group) => group.policies.join(', ')),
    identityRow('seed', comparison, (group) => group.seeds.join(', ')),
    identityRow('runs', comparison, (group) => String(group.files.length)),
    // The sample size bounds the tail: a p99 of 100 requests is their second largest.
    identityRow('requests sent', comparison, (group) => group.requestsSent.join(', ')),
  ];
  const figures = comparison.rows.map((row) => figureRow(row, comparison.noiseBand));
  return [
    ...alignColumns([header, ...identity, ...figures]),
    '',
    ...notes(comparison),
    ...comparison.warnings.map((warning) => `warning: ${warning}`),
  ];
}

/** Returns the cells of one group: its value, then its change unless it is the baseline. */
function columns(index: number, value: string, change: string): string[] {
  return index === 0 ? [value] : [value, change];
}

function identityRow(
  heading: string,
  comparison: Comparison,
  describe: (group: GroupSummary) => string,
): string[] {
  return [
    heading,
    ...comparison.groups.flatMap((group, index) => columns(index, describe(group), '')),
  ];
}

function figureRow(row: FigureRow, noiseBand: boolean): string[] {
  const { label, format } = METRIC_FORMATS[row.metric];
  const [base] = row.groups;
  return [
    label,
    ...row.groups.flatMap((group, index) =>
      columns(
        index,
        figureCell(group, format),
        base === undefined ? '' : changeCell(group, base, { noiseBand }),
      ),
    ),
  ];
}

/**
 * Formats the median, with the range when there are several values, such as
 * `2.06 s (2.01 s..2.10 s)`, and with `>= ` before a lower bound.
 */
export function figureCell(figure: GroupFigure, format: (value: number) => string): string {
  if (figure.median === null || figure.min === null || figure.max === null) return 'n/a';
  const bound = figure.lowerBound ? '>= ' : '';
  const range = figure.values.length > 1 ? ` (${format(figure.min)}..${format(figure.max)})` : '';
  const partial =
    figure.values.length < figure.runs ? ` [${figure.values.length} of ${figure.runs} runs]` : '';
  return `${bound}${format(figure.median)}${range}${partial}`;
}

/**
 * Formats the change from the baseline, such as `+12.5%`, `-3.0% within noise`, or `>= +8.0%`
 * when the change is only a bound. A change that rounds to zero prints as `0.0%`, without a
 * sign. A `*` marks a change weighed against a range of identical values. With `noiseBand`
 * set, an unmarked change reads as beyond noise, so an exact change that a side measured in
 * fewer than two runs gets `noise unknown`.
 */
export function changeCell(
  figure: GroupFigure,
  base: GroupFigure,
  options: { noiseBand?: boolean } = {},
): string {
  if (figure.changePercent === null) return missingChange(figure, base);
  const bound = figure.changeBound === null ? '' : `${CHANGE_BOUND_SIGNS[figure.changeBound]} `;
  const change = `${bound}${signedPercent(figure.changePercent)}`;
  if (options.noiseBand === true && noiseUnknown(figure)) return `${change} noise unknown`;
  const noise = figure.noise === 'within' ? `${change} within noise` : change;
  return identicalRange(figure, base) ? `${noise} *` : noise;
}

/**
 * Returns whether an exact change could not be weighed against noise. A bound is never
 * weighed, and its `>=` or `<=` already shows that.
 */
function noiseUnknown(figure: GroupFigure): boolean {
  return figure.noise === 'unknown' && figure.changeBound === null;
}

/** Formats a percentage with one decimal and its sign, or `0.0%` when it rounds to zero. */
function signedPercent(value: number): string {
  const text = value.toFixed(1);
  if (Number(text) === 0) return '0.0%';
  return value > 0 ? `+${text}%` : `${text}%`;
}

const CHANGE_BOUND_SIGNS: Record<ChangeBound, string> = { atLeast: '>=', atMost: '<=' };

function missingChange(figure: GroupFigure, base: GroupFigure): string {
  if (figure.median === null) return 'n/a';
  if (figure.lowerBound && base.lowerBound) return 'n/a (both lower bounds)';
  if (base.median === 0) return 'n/a (baseline is 0)';
  return base.median === null ? 'n/a' : 'n/a (change too large)';
}

/** Returns whether a change was judged against noise with a side whose runs all gave one value. */
function identicalRange(figure: GroupFigure, base: GroupFigure): boolean {
  const judged = figure.noise === 'within' || figure.noise === 'beyond';
  return judged && (figure.identicalRuns || base.identicalRuns);
}

function notes(comparison: Comparison): string[] {
  const lines: string[] = [];
  if (comparison.groups.some((group) => group.files.length > 1)) {
    lines.push('Figures are medians of the runs in a column, with their range (min..max).');
    for (const group of comparison.groups) {
      lines.push(`${group.label}: ${group.files.join(', ')}`);
    }
  }
  if (comparison.noiseBand) {
    lines.push(
      "A change marked 'within noise' has a range that overlaps the baseline's, so it may be drift between runs.",
    );
  } else {
    lines.push(noNoiseBandNote(comparison));
  }
  if (comparison.rows.some(hasIdenticalRangeMark)) lines.push(IDENTICAL_NOTE);
  if (comparison.noiseBand && comparison.rows.some(hasNoiseUnknownMark)) {
    lines.push(NOISE_UNKNOWN_NOTE);
  }
  lines.push(...unmeasuredNotes(comparison));
  if (comparison.rows.some((row) => row.groups.some((group) => group.lowerBound))) {
    lines.push(LOWER_BOUND_NOTE);
  }
  return lines;
}

/** Returns one line per run whose figure is n/a for a recorded reason, such as a k6 run. */
export function unmeasuredNotes(comparison: Comparison): string[] {
  return comparison.rows.flatMap((row) => {
    const { label } = METRIC_FORMATS[row.metric];
    // A percentile name such as `p95` keeps its lower case at the start of the line.
    const heading = /^p\d/.test(label)
      ? label
      : `${label.charAt(0).toUpperCase()}${label.slice(1)}`;
    return row.unmeasured.map(({ file, reason }) => `${heading} is n/a for ${file}: ${reason}.`);
  });
}

function hasNoiseUnknownMark(row: FigureRow): boolean {
  return row.groups.some((group) => group.changePercent !== null && noiseUnknown(group));
}

function hasIdenticalRangeMark(row: FigureRow): boolean {
  const [base, ...others] = row.groups;
  return base !== undefined && others.some((group) => identicalRange(group, base));
}

/** Explains why no change is marked, and how to get a noise band. */
function noNoiseBandNote(comparison: Comparison): string {
  const single = comparison.groups.filter((group) => group.files.length < 2);
  const reason =
    single.length === comparison.groups.length
      ? 'each column is a single run'
      : `${single.map((group) => group.label).join(', ')} ${single.length === 1 ? 'is a single run' : 'are single runs'}`;
  return (
    `No noise band can be given, because ${reason}. ` +
    "A machine's speed can drift by tens of percent between hours, so repeat each side " +
    '3 or more times, alternating the sides, and pass them as --base FILE... --candidate FILE...'
  );
}

/** Pads every column but the last to its widest cell. */
function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, index) =>
        index === row.length - 1 ? cell : cell.padEnd((widths[index] ?? 0) + COLUMN_GAP),
      )
      .join('')
      .trimEnd(),
  );
}
