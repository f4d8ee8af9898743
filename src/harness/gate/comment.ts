/**
 * Pull-request comment and console lines of a policy gate: the PR policy's verdict and reasons
 * first, then the base vs PR table, the policy change, and the changed routes the drill did not
 * exercise.
 */
import { fallbackOnlyRoutes } from '../drill/policy-change.js';
import { policyChangeItem } from '../report/markdown.js';
import type { Report } from '../report/types.js';
import { type GateComparison, SINGLE_DRILL_NOTE } from './compare.js';
import type { BaseDrillOutcome, GateDrillOutcome, GateFiles, GateSettings } from './run.js';

/**
 * First line of every gate comment. The workflow finds the comment to update by it, so a
 * change here must change .github/workflows/policy-gate.yml too.
 */
export const GATE_COMMENT_MARKER = '<!-- scalegate-policy-gate -->';

export interface GateCommentInput {
  settings: GateSettings;
  /** Null when the gate had no base policy. */
  base: BaseDrillOutcome | null;
  pr: GateDrillOutcome;
  /** Null unless both drills wrote a report. */
  comparison: GateComparison | null;
  /**
   * `[warning]` lines of the PR drill, such as a route of the drill's load with no candidate on
   * the provider its outage fails over to. Empty or left out when it printed none.
   */
  prWarnings?: readonly string[];
}

/** Renders the gate's pull-request comment as Markdown. */
export function renderGateComment(input: GateCommentInput): string {
  const { pr } = input;
  const parts = [
    GATE_COMMENT_MARKER,
    ...verdictSection(input),
    ...comparisonSection(input),
    ...(pr.status === 'ran' ? changeSections(pr.run.report) : []),
    ...reportsSection(input),
  ];
  return `${parts.join('\n').trimEnd()}\n`;
}

function verdictSection(input: GateCommentInput): string[] {
  const { pr, settings } = input;
  const drill =
    `Drill \`${settings.drill}\`, seed ${settings.seed}, time scale ${settings.timeScale}` +
    (settings.topology === '' ? '' : `, topology \`${settings.topology}\``) +
    filesSetting(settings.files);
  const order = drillOrder(input.base);
  const warnings = warningLines(input.prWarnings ?? []);
  if (pr.status === 'failed') {
    return [
      '## Policy gate: the PR drill failed',
      '',
      `The drill of the PR policy \`${pr.policyPath}\` failed before it wrote a report:`,
      '',
      ...codeBlock(pr.message),
      '',
      ...warnings,
      `${drill}. ${order}`,
      '',
    ];
  }
  const report = pr.run.report;
  const reasons = report.verdict.reasons.map((reason) => `- ${reason}`);
  return [
    `## Policy gate: ${report.verdict.status}`,
    '',
    `The \`${settings.drill}\` drill of the PR policy \`${pr.policyPath}\` ` +
      `(sha256 ${report.environment.policyHash.slice(0, 12)}) ${verdictPhrase(report)}.`,
    '',
    ...reasonLines(report.verdict.status, reasons),
    ...warnings,
    `${drill}. ${order}`,
    '',
  ];
}

/** Lists the PR drill's warnings under a heading and a blank line, or nothing without any. */
function warningLines(warnings: readonly string[]): string[] {
  if (warnings.length === 0) return [];
  return ['Warnings of the PR drill:', '', ...warnings.map((warning) => `- ${warning}`), ''];
}

/** Names the price table and the tenants file with the short sha256 that compare prints. */
function filesSetting(files: GateFiles | null): string {
  if (files === null) return '';
  return (
    `, price table \`${files.pricesPath}\` (sha256 ${files.pricesHash.slice(0, 12)}), ` +
    `tenants file \`${files.tenantsPath}\` (sha256 ${files.tenantsHash.slice(0, 12)})`
  );
}

function drillOrder(base: BaseDrillOutcome | null): string {
  if (base === null) return 'No base policy was given, so only the PR policy was drilled.';
  if (base.status === 'skipped') {
    return `The base policy \`${base.policyPath}\` was not drilled, because ${base.reason}.`;
  }
  return 'The base policy was drilled first and the PR policy second, in the same job.';
}

function verdictPhrase(report: Report): string {
  switch (report.verdict.status) {
    case 'passed':
      return 'passed';
    case 'deviated':
      return 'deviated from the steady state';
    case 'inconclusive':
      return 'got an inconclusive verdict';
    case 'aborted':
      return 'was aborted';
  }
}

function comparisonSection(input: GateCommentInput): string[] {
  const { base, pr, comparison } = input;
  if (base === null || base.status === 'skipped') return [];
  const heading = ['### Base vs PR', ''];
  if (base.status === 'failed') {
    // A failed PR drill has no verdict for this section to point to.
    const sentence =
      pr.status === 'failed'
        ? 'failed before it wrote a report too, so there is no comparison:'
        : 'failed before it wrote a report, so there is no comparison. The PR verdict above ' +
          'stands on its own:';
    return [
      ...heading,
      `The drill of the base policy \`${base.policyPath}\` ${sentence}`,
      '',
      ...codeBlock(base.message),
      '',
    ];
  }
  if (pr.status === 'failed' || comparison === null) {
    return [
      ...heading,
      `The base policy \`${base.policyPath}\` got the verdict ` +
        `${base.run.report.verdict.status}. There is no comparison, because the PR drill failed.`,
      '',
    ];
  }
  const baseReport = base.run.report;
  const prReport = pr.run.report;
  const rows = [
    ['policy', policyCell(base.policyPath, baseReport), policyCell(pr.policyPath, prReport), ''],
    ['verdict', baseReport.verdict.status, prReport.verdict.status, ''],
    ...comparison.rows.map((row) => [row.label, row.base, row.pr, row.change]),
  ];
  return [
    ...heading,
    ...abortNotes(base, 'base'),
    ...abortNotes(pr, 'PR'),
    '| | base | PR | change |',
    '| --- | --- | --- | --- |',
    ...rows.map((cells) => `| ${cells.map(tableCell).join(' | ')} |`),
    '',
    ...comparison.notes,
    '',
    ...(comparison.warnings.length === 0
      ? []
      : [
          'Warnings from the comparison:',
          '',
          ...comparison.warnings.map((line) => `- ${line}`),
          '',
        ]),
  ];
}

/** Says that a side's drill was aborted, so its figures cover part of the run. */
function abortNotes(outcome: GateDrillOutcome, side: string): string[] {
  if (outcome.status !== 'ran') return [];
  const abort = outcome.run.report.drill?.aborted;
  if (abort === undefined || abort === null) return [];
  return [
    `**The ${side} drill was aborted** at ${abort.atS.toFixed(2)} s (${abort.reason}: ` +
      `${abort.detail}), so its figures cover the run up to then.`,
    '',
  ];
}

function policyCell(path: string, report: Report): string {
  return `\`${path}\` ${report.environment.policyHash.slice(0, 12)}`;
}

function changeSections(report: Report): string[] {
  const change = report.policyChange;
  if (change === undefined) return [];
  const fallbackOnly = fallbackOnlyRoutes(report.scenario.routes, report.topologies);
  const base = `base policy \`${change.basePolicyPath}\` (sha256 ${change.basePolicySha256.slice(0, 12)})`;
  if (change.changes.length === 0) {
    return ['### Policy change', '', `The PR policy has the same settings as the ${base}.`, ''];
  }
  const unexercised = change.unexercisedRoutes;
  return [
    '### Policy change',
    '',
    `Settings the PR policy changes from the ${base}:`,
    '',
    ...change.changes.map((entry) => `- ${policyChangeItem(entry, unexercised, fallbackOnly)}`),
    '',
    '### Changed routes the drill did not exercise',
    '',
    ...(unexercised.length === 0
      ? ['None: the drill exercised every changed route.']
      : [
          "The drill's load sent no request to these routes and no failover reached their " +
            'candidates, so its verdict does not cover their changes:',
          '',
          ...unexercised.map((route) => `- \`${route}\``),
        ]),
    '',
  ];
}

function reportsSection(input: GateCommentInput): string[] {
  const lines = [input.base, input.pr].flatMap((outcome) =>
    outcome?.status === 'ran' ? [`- \`${outcome.reportPath}\``] : [],
  );
  if (lines.length === 0) return [];
  return ['Reports in the gate artifact:', '', ...lines, ''];
}

/** Fences text in a code block whose fence is longer than any backtick run inside it. */
function codeBlock(text: string): string[] {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [fence, text, fence];
}

/** Escapes the pipes and line breaks that would end a Markdown table cell. */
function tableCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/**
 * Formats the `[compare]` console lines: each side's verdict, then one line per figure with
 * the change, then why a figure is n/a or a lower bound, then the comparison's warnings.
 */
export function compareSummaryLines(
  input: Pick<GateCommentInput, 'base' | 'pr' | 'comparison'>,
): string[] {
  const { base, pr, comparison } = input;
  if (base === null) return [];
  if (base.status === 'skipped') {
    return [`[compare] base policy ${base.policyPath} was not drilled, because ${base.reason}`];
  }
  if (base.status === 'failed') {
    const firstLine = base.message.split('\n', 1)[0] ?? base.message;
    return [
      `[compare] base drill of ${base.policyPath} failed, so there is no comparison: ${firstLine}`,
    ];
  }
  const baseVerdict = base.run.report.verdict.status;
  if (pr.status === 'failed' || comparison === null) {
    return [`[compare] base=${baseVerdict}; no comparison, because the PR drill failed`];
  }
  const prVerdict = pr.run.report.verdict.status;
  return [
    `[compare] verdict base=${baseVerdict} PR=${prVerdict}`,
    ...comparison.rows.map(
      (row) => `[compare] ${row.label}: ${row.base} -> ${row.pr} (${row.change})`,
    ),
    ...comparison.notes
      .filter((note) => note !== SINGLE_DRILL_NOTE)
      .map((note) => `[compare] note: ${note}`),
    ...comparison.warnings.map((warning) => `[compare] warning: ${warning}`),
    '[compare] single runs, so no change is marked as within or beyond noise',
  ];
}

/**
 * Returns the verdict's reasons as a list and a blank line. A passed verdict needs none, and
 * any other without them gets a line that states it.
 */
function reasonLines(status: string, reasons: readonly string[]): string[] {
  if (reasons.length > 0) return [...reasons, ''];
  return status === 'passed' ? [] : ['The verdict gives no reasons.', ''];
}
