import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { renderCharts } from './charts.js';
import { renderMarkdown } from './markdown.js';
import type { Report } from './types.js';
import { validateReport } from './validate.js';
import { replaceFile } from '../replace-file.js';

/** Name of the pointer file that names the newest run in a reports folder. */
export const LATEST_POINTER = 'latest.json';

/** Raised when the run folder already exists; a report is never overwritten. */
export class ReportExistsError extends Error {
  readonly code = 'report_exists';
  constructor(readonly runDir: string) {
    super(`report folder ${runDir} already exists; use a new run id`);
    this.name = 'ReportExistsError';
  }
}

export function isReportExistsError(error: unknown): error is ReportExistsError {
  return error instanceof ReportExistsError;
}

export interface WrittenReport {
  runDir: string;
  files: string[];
}

interface LatestPointer {
  runId: string;
  reportPath: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns `runId`, or `runId-2`, `runId-3` and so on when a report folder of that
 * name exists in `dir`, as for two drills started in the same second.
 */
export async function freeRunId(dir: string, runId: string): Promise<string> {
  for (let suffix = 1; ; suffix += 1) {
    const candidate = suffix === 1 ? runId : `${runId}-${suffix}`;
    if (!(await exists(join(dir, candidate)))) return candidate;
  }
}

/**
 * Validates a report, renders its Markdown summary and SVG charts, and only then writes
 * `<dir>/<runId>/` (report.json, summary.md, *.svg) by renaming a finished temporary
 * folder into place, then points `<dir>/latest.json` at it.
 * @throws {@link ReportValidationError} when the report breaks the schema; nothing is written.
 */
export async function writeReport(report: Report, dir: string): Promise<WrittenReport> {
  const valid = validateReport(report);
  const charts = await renderCharts(valid);
  const markdown = renderMarkdown(
    valid,
    charts.map((chart) => chart.fileName),
  );
  const runDir = join(dir, valid.runId);
  if (await exists(runDir)) {
    throw new ReportExistsError(runDir);
  }
  const temp = join(dir, `.${valid.runId}.${randomBytes(4).toString('hex')}.tmp`);
  await mkdir(temp, { recursive: true });
  try {
    const files: [string, string][] = [
      ['report.json', `${JSON.stringify(valid, null, 2)}\n`],
      ['summary.md', markdown],
      ...charts.map((chart): [string, string] => [chart.fileName, chart.svg]),
    ];
    for (const [name, text] of files) {
      await writeFile(join(temp, name), text);
    }
    await rename(temp, runDir);
    const pointer: LatestPointer = {
      runId: valid.runId,
      reportPath: join(valid.runId, 'report.json'),
    };
    await replaceFile(join(dir, LATEST_POINTER), `${JSON.stringify(pointer, null, 2)}\n`);
    return { runDir, files: files.map(([name]) => join(runDir, name)) };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** Reads and validates the report that `<dir>/latest.json` points at. */
export async function readLatestReport(dir: string): Promise<Report> {
  const pointer = JSON.parse(await readFile(join(dir, LATEST_POINTER), 'utf8')) as LatestPointer;
  const text = await readFile(join(dir, pointer.reportPath), 'utf8');
  return validateReport(JSON.parse(text));
}
