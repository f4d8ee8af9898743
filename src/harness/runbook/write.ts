import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

import type { Report } from '../report/types.js';
import { validateReport } from '../report/validate.js';
import { renderRunbook } from './render.js';
import { replaceFile } from '../replace-file.js';

/** Default location of the generated runbook, relative to the repository root. */
export const RUNBOOK_PATH = 'runbooks/scaling_runbook.md';

/**
 * Returns why a drill's report must leave the runbook as it is, or undefined when the
 * report may rewrite it: an aborted drill has partial evidence, and a run whose load
 * generator fell behind has suspect latency and throughput numbers.
 */
export function runbookUnchangedReason(report: Report): string | undefined {
  if (report.verdict.status === 'aborted') return 'an aborted drill does not write the runbook';
  if (report.topologies.some((result) => !result.harness.valid)) {
    return 'the load generator fell behind, so the run is invalid; rerun the drill on a quieter machine or at a lower --time-scale';
  }
  return undefined;
}

/**
 * Validates each report, renders the runbook and replaces `path` atomically (temp file, then
 * rename), so a reader never sees half a runbook. The temp file is removed when the
 * rename fails, as when `path` is a directory.
 * @throws {@link ReportValidationError} when a report breaks the schema; nothing is written.
 */
export async function writeRunbook(
  reports: readonly Report[],
  path = RUNBOOK_PATH,
): Promise<string> {
  const markdown = renderRunbook(reports.map((report) => validateReport(report)));
  await mkdir(dirname(path), { recursive: true });
  await replaceFile(path, markdown);
  return path;
}

/**
 * Outcome of a drill for the runbook file: `written`, `unchanged` when it left a runbook
 * that was already at `path`, or `not-written` when it wrote none and none exists there.
 */
export type RunbookOutcome =
  | { status: 'written'; path: string }
  | { status: 'unchanged' | 'not-written'; path: string; reason: string };

/**
 * Returns the outcome of a drill that does not write the runbook at `path` for `reason`:
 * `unchanged` when a file is there, `not-written` when nothing is.
 */
export async function keptRunbook(path: string, reason: string): Promise<RunbookOutcome> {
  const existing = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  return { status: existing === undefined ? 'not-written' : 'unchanged', path, reason };
}
