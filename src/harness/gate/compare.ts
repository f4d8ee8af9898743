/**
 * Comparison of a policy gate's two drills, the base policy's and the pull request's, built
 * with the figures, notes and warnings of `scalegate compare`.
 */
import { type Comparison, compareGroups, type GroupFigure } from '../compare/compare.js';
import {
  changeCell,
  figureCell,
  LOWER_BOUND_NOTE,
  METRIC_FORMATS,
  unmeasuredNotes,
} from '../compare/format.js';
import { type MetricKey, runFromReport } from '../compare/run.js';
import { figureStats, percentChange } from '../compare/stats.js';
import { signedUsd } from '../report/format.js';
import type { Report, TopologyResult } from '../report/types.js';

/** A drill report of the gate and the path of its report.json. */
export interface GateRun {
  report: Report;
  reportPath: string;
}

/** One row of the gate's table, with each cell formatted as `scalegate compare` prints it. */
export interface GateRow {
  label: string;
  base: string;
  pr: string;
  /**
   * Change from base to PR in percent of the base figure, with compare's marks, or `n/a` when
   * either drill was aborted.
   */
  change: string;
}

export interface GateComparison {
  rows: GateRow[];
  /**
   * Notes on the figures: no noise band, figures not measured, changes left out beside an
   * aborted drill, lower bounds, price table date.
   */
  notes: string[];
  /** Compare's warnings, such as a run's caveats, except the expected policy difference. */
  warnings: string[];
  /** The full comparison of every compare figure, as `scalegate compare --json` prints it. */
  comparison: Comparison;
}

/** Compare figures of the gate's table, in table order; failover activations follow p95. */
const FIGURES_BEFORE_FAILOVERS: readonly MetricKey[] = [
  'throughputRpm',
  'succeededRpm',
  'successRate',
  'p95LatencyS',
];
const FIGURES_AFTER_FAILOVERS: readonly MetricKey[] = ['meanUsdPerTask'];

/** First note of every gate comparison. The console prints it as a line of its own. */
export const SINGLE_DRILL_NOTE =
  'Each side is a single drill, so no change can be told apart from drift between runs; ' +
  'compare marks none as within or beyond noise.';

/** Start of compare's warning about runs with different policies, which a gate runs on purpose. */
const POLICY_HASH_WARNING = 'policy hash differs:';

/**
 * Compares the PR policy's drill with the base policy's drill, the base as the baseline.
 * Each side is one run, so compare marks no change as within or beyond noise.
 * @throws Error when a report contains other than one topology, which `scalegate drill` never writes.
 */
export function compareGateRuns(base: GateRun, pr: GateRun): GateComparison {
  const baseTopology = onlyTopology(base);
  const prTopology = onlyTopology(pr);
  const comparison = compareGroups([
    { label: 'base', runs: [runFromReport(base.reportPath, base.report, baseTopology)] },
    { label: 'PR', runs: [runFromReport(pr.reportPath, pr.report, prTopology)] },
  ]);
  const row = (metric: MetricKey): GateRow => metricRow(comparison, metric);
  const unchargedRow = unchargedSpendRow(baseTopology, prTopology);
  const figureRows = [
    ...FIGURES_BEFORE_FAILOVERS.map(row),
    failoverRow(baseTopology, prTopology),
    ...FIGURES_AFTER_FAILOVERS.map(row),
    ...(unchargedRow === undefined ? [] : [unchargedRow]),
  ];
  const abortNote = abortedWindowNote(base.report, pr.report);
  const rows =
    abortNote === undefined
      ? figureRows
      : figureRows.map((gateRow) => ({ ...gateRow, change: 'n/a' }));
  const shown = new Set<MetricKey>([...FIGURES_BEFORE_FAILOVERS, ...FIGURES_AFTER_FAILOVERS]);
  const shownRows = comparison.rows.filter((figureRow) => shown.has(figureRow.metric));
  const notes = [SINGLE_DRILL_NOTE, ...unmeasuredNotes({ ...comparison, rows: shownRows })];
  if (abortNote !== undefined) notes.push(abortNote);
  if (shownRows.some((figureRow) => figureRow.groups.some((group) => group.lowerBound))) {
    notes.push(LOWER_BOUND_NOTE);
  }
  const prices = pricesNote(base.report, pr.report);
  if (prices !== undefined) notes.push(prices);
  return {
    rows,
    notes,
    warnings: comparison.warnings.filter((warning) => !warning.startsWith(POLICY_HASH_WARNING)),
    comparison,
  };
}

/**
 * Says why the table gives no changes when a drill was aborted, or returns undefined when
 * neither was. An aborted drill's figures cover the run up to the abort, such as the fault-free
 * seconds and the first seconds of an outage, so a change from the other side's figures would
 * compare different parts of the drill.
 */
function abortedWindowNote(base: Report, pr: Report): string | undefined {
  const baseAbort = base.drill?.aborted ?? null;
  const prAbort = pr.drill?.aborted ?? null;
  if (baseAbort === null && prAbort === null) return undefined;
  const describeSpan = (side: string, report: Report, abortS: number | undefined): string =>
    abortS === undefined
      ? `the ${side} drill ran its full ${report.scenario.durationS} s`
      : `the ${side} drill was aborted at ${abortS.toFixed(2)} s`;
  return (
    `The change column is n/a, because ${describeSpan('base', base, baseAbort?.atS)} and ` +
    `${describeSpan('PR', pr, prAbort?.atS)}, so the figures of the two sides cover different parts ` +
    'of the drill.'
  );
}

/**
 * Names the effective date of the price table behind each side's costs, or returns undefined
 * when a report was written before the date was recorded. The comment's settings line names
 * the file itself.
 */
function pricesNote(base: Report, pr: Report): string | undefined {
  const baseDate = base.environment.pricesEffectiveDate;
  const prDate = pr.environment.pricesEffectiveDate;
  if (baseDate === undefined || prDate === undefined) return undefined;
  if (baseDate === prDate) return `Costs are priced with the price table effective ${baseDate}.`;
  return (
    `Costs are priced with the price table effective ${baseDate} on the base side and ` +
    `${prDate} on the PR side.`
  );
}

function onlyTopology(run: GateRun): TopologyResult {
  const [topology, ...others] = run.report.topologies;
  if (topology === undefined || others.length > 0) {
    throw new Error(
      `invalid gate report ${run.reportPath}: it contains ${run.report.topologies.length} topologies, and a gate compares drill reports of one; pass reports that scalegate drill wrote`,
    );
  }
  return topology;
}

function metricRow(comparison: Comparison, metric: MetricKey): GateRow {
  const { label, format } = METRIC_FORMATS[metric];
  const figures = comparison.rows.find((figureRow) => figureRow.metric === metric)?.groups ?? [];
  const [base, pr] = figures;
  if (base === undefined || pr === undefined) {
    throw new Error(`the comparison has no ${label} of both runs`);
  }
  return {
    label,
    base: figureCell(base, format),
    pr: figureCell(pr, format),
    change: changeCell(pr, base),
  };
}

/** Sums the failover activations of a drill over every provider pair. */
export function failoverActivations(topology: TopologyResult): number {
  return topology.failovers.reduce((sum, pair) => sum + pair.activations, 0);
}

/**
 * Builds the failover row, which compare does not have because load outputs do not record
 * failovers. Its cells go through compare's formatting as a one-run group.
 */
function failoverRow(base: TopologyResult, pr: TopologyResult): GateRow {
  const baseFigure = singleRunFigure(failoverActivations(base), null);
  const prFigure = singleRunFigure(failoverActivations(pr), baseFigure.median);
  const format = (value: number): string => value.toFixed(0);
  return {
    label: 'failover activations',
    base: figureCell(baseFigure, format),
    pr: figureCell(prFigure, format),
    change: changeCell(prFigure, baseFigure),
  };
}

/**
 * Builds the row of the providers' bill minus the charged token cost, or returns undefined
 * when either report has no providers' bill, as reports before schema version 6.
 */
function unchargedSpendRow(base: TopologyResult, pr: TopologyResult): GateRow | undefined {
  const baseBill = base.cost.providerBill;
  const prBill = pr.cost.providerBill;
  if (baseBill === undefined || prBill === undefined) return undefined;
  const baseFigure = singleRunFigure(baseBill.differenceUsd, null);
  const prFigure = singleRunFigure(prBill.differenceUsd, baseFigure.median);
  return {
    label: 'provider bill minus charged',
    base: figureCell(baseFigure, signedUsd),
    pr: figureCell(prFigure, signedUsd),
    change: changeCell(prFigure, baseFigure),
  };
}

function singleRunFigure(value: number, baseValue: number | null): GroupFigure {
  const isBase = baseValue === null;
  return {
    ...figureStats([value]),
    lowerBound: false,
    identicalRuns: false,
    changePercent: isBase ? null : percentChange(baseValue, value),
    changeBound: null,
    noise: isBase ? null : 'unknown',
  };
}
