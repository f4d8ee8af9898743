import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import type { Report } from '../report/types.js';
import { validateReport } from '../report/validate.js';
import { renderRunbook } from './render.js';

/** Default location of the generated runbook, relative to the repository root. */
export const RUNBOOK_PATH = 'runbooks/scaling_runbook.md';

/**
 * Validates each report, renders the runbook and replaces `path` atomically (temp file, then
 * rename), so a reader never sees half a runbook.
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
  await rename(temp, path);
  return path;
}
