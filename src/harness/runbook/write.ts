import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import type { Report } from '../report/types.js';
import { validateReport } from '../report/validate.js';
import { renderRunbook } from './render.js';

/** Default location of the generated runbook, relative to the repository root. */
export const RUNBOOK_PATH = 'runbooks/scaling_runbook.md';

/**
 * Returns why a drill's report must leave the runbook as it is, or undefined when the
 * report may rewrite it: an aborted drill has partial evidence, and a run whose load
 * generator fell behind has suspect latency and throughput numbers.
 */
export function runbookUnchangedReason(report: Report): string | undefined {
  if (report.verdict.status === 'aborted') return 'an aborted drill does not rewrite it';
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
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, markdown);
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return path;
}
