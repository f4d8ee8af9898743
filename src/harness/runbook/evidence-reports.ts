import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Report } from '../report/types.js';
import { validateReport } from '../report/validate.js';
import { runbookUnchangedReason } from './write.js';

/** The reports a runbook draws on, and the report files it could not use. */
export interface RunbookEvidence {
  reports: Report[];
  /** One line per report file that could not be read or validated, with the reason. */
  skipped: string[];
}

/** Reads and validates `<dir>/<run>/report.json`; a folder without one returns undefined. */
async function readReport(path: string): Promise<Report | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return validateReport(JSON.parse(text));
}

/**
 * Returns the evidence of a runbook regenerated after `report`'s drill: `report`, then for
 * every other drill the newest report in `reportsDir` that may write a runbook (not
 * aborted, load generator on schedule). So a run of one drill keeps the incidents of the
 * others. A report file that cannot be read or breaks the schema is listed in `skipped`.
 */
export async function runbookEvidence(
  report: Report,
  reportsDir: string,
): Promise<RunbookEvidence> {
  const drill = report.drill?.name ?? report.scenario.name;
  const newest = new Map<string, Report>();
  const skipped: string[] = [];
  const entries = await readdir(reportsDir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const path = join(reportsDir, entry.name, 'report.json');
    let other: Report | undefined;
    try {
      other = await readReport(path);
    } catch (error) {
      skipped.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const name = other?.drill?.name;
    if (other === undefined || name === undefined || name === drill) continue;
    if (runbookUnchangedReason(other) !== undefined) continue;
    const known = newest.get(name);
    if (known === undefined || other.createdAt > known.createdAt) newest.set(name, other);
  }
  const others = [...newest.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return { reports: [report, ...others], skipped };
}
