import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { isLoadOutputValidationError } from '../load/errors.js';
import { LOAD_OUTPUT_SCHEMA_VERSION } from '../load/output.js';
import { validateLoadOutput } from '../load/validate-output.js';
import { isReportValidationError } from '../report/errors.js';
import { READABLE_REPORT_SCHEMA_VERSIONS } from '../report/types.js';
import { validateReport } from '../report/validate.js';
import { CompareInputError } from './errors.js';
import { type RunRecord, runFromLoadOutput, runFromReport } from './run.js';

/** Fix for a file that is not a scalegate output at all. */
const PASS_A_RUN =
  'pass a file written by scalegate load --out or a drill reports/<run-id>/report.json';

type Format = 'load output' | 'drill report';

/**
 * Reads one load `--out` JSON or drill report.json and reduces it to a run record.
 * @throws {@link CompareInputError} naming the file, the problem and the fix.
 */
export async function readRun(file: string): Promise<RunRecord> {
  const value = parseJson(file, await readText(file));
  const format = formatOf(value);
  const pointed = pointedReport(file, value);
  if (pointed !== undefined) {
    throw new CompareInputError(
      file,
      'unknown_format',
      'a pointer to the latest drill report, not a report',
      `pass the report it points at, ${pointed}`,
    );
  }
  if (format === undefined) {
    throw new CompareInputError(
      file,
      'unknown_format',
      'neither a load output (fields result and verdict) nor a drill report (fields runId and topologies)',
      PASS_A_RUN,
    );
  }
  checkSchemaVersion(file, format, (value as { schemaVersion?: unknown }).schemaVersion);
  return format === 'load output' ? loadRun(file, value) : reportRun(file, value);
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') {
      throw new CompareInputError(file, 'not_found', 'file not found', PASS_A_RUN);
    }
    if (code === 'EISDIR') {
      throw new CompareInputError(file, 'unreadable', 'is a folder', await folderFix(file));
    }
    throw new CompareInputError(
      file,
      'unreadable',
      `cannot be read (${String(code)})`,
      'pass a readable file',
    );
  }
}

/** Names the report in a drill's run folder, or the kind of file to pass from another folder. */
async function folderFix(folder: string): Promise<string> {
  const report = join(folder, 'report.json');
  const found = await stat(report).then(
    (stats) => stats.isFile(),
    () => false,
  );
  if (found) return `pass the report in it, ${report}`;
  return `pass the files in it, each a load --out JSON or a drill report.json, such as ${join(folder, '<run-id>', 'report.json')}`;
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // Node's message quotes the start of the text, line breaks included; escaped, the error stays on one line.
    const oneLine = reason.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
    throw new CompareInputError(file, 'not_json', `not JSON (${oneLine})`, PASS_A_RUN);
  }
}

/**
 * Returns the report path that a drill's `latest.json` names, resolved from the pointer's
 * folder, or undefined when `value` is no such pointer.
 */
function pointedReport(file: string, value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if ('topologies' in value || !('runId' in value)) return undefined;
  const reportPath = (value as { reportPath?: unknown }).reportPath;
  return typeof reportPath === 'string' ? join(dirname(file), reportPath) : undefined;
}

function formatOf(value: unknown): Format | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if ('result' in value && 'verdict' in value) return 'load output';
  if ('runId' in value && 'topologies' in value) return 'drill report';
  return undefined;
}

function checkSchemaVersion(file: string, format: Format, version: unknown): void {
  const supported: readonly unknown[] =
    format === 'load output' ? [LOAD_OUTPUT_SCHEMA_VERSION] : READABLE_REPORT_SCHEMA_VERSIONS;
  if (supported.includes(version)) return;
  if (version === undefined && format === 'load output') {
    throw new CompareInputError(
      file,
      'no_schema_version',
      'load output without schemaVersion, written by a scalegate load before schema version 1',
      'run the load again with this scalegate to record its environment and settings',
    );
  }
  if (version === undefined) {
    // Every drill report records its schemaVersion, so one without it was edited or cut off.
    throw new CompareInputError(
      file,
      'invalid',
      'drill report without schemaVersion, which every report.json records',
      'run the drill again, as an edited or cut-off report cannot be compared',
    );
  }
  const writer = format === 'load output' ? 'the load' : 'the drill';
  throw new CompareInputError(
    file,
    'unsupported_schema_version',
    `${format} schemaVersion ${JSON.stringify(version)} is not supported by this scalegate, which reads ${versionsText(supported)}`,
    `compare it with the scalegate version that wrote it, or run ${writer} again with this one`,
  );
}

/** Words a list of versions, such as `version 1` or `versions 1 and 2`. */
function versionsText(versions: readonly unknown[]): string {
  if (versions.length === 1) return `version ${String(versions[0])}`;
  return `versions ${versions.slice(0, -1).join(', ')} and ${String(versions.at(-1))}`;
}

function loadRun(file: string, value: unknown): RunRecord {
  try {
    return runFromLoadOutput(file, validateLoadOutput(value));
  } catch (error) {
    if (!isLoadOutputValidationError(error)) throw error;
    throw new CompareInputError(
      file,
      'invalid',
      error.message,
      'run the load again, as an edited or cut-off file cannot be compared',
    );
  }
}

function reportRun(file: string, value: unknown): RunRecord {
  let report: ReturnType<typeof validateReport>;
  try {
    report = validateReport(value);
  } catch (error) {
    if (!isReportValidationError(error)) throw error;
    throw new CompareInputError(
      file,
      'invalid',
      error.message,
      'run the drill again, as an edited or cut-off report cannot be compared',
    );
  }
  const [topology, ...others] = report.topologies;
  if (topology === undefined || others.length > 0) {
    throw new CompareInputError(
      file,
      'several_topologies',
      `the report holds ${report.topologies.length} topologies, and compare reads one per file`,
      'pass a report of one topology, such as scalegate drill writes',
    );
  }
  return runFromReport(file, report, topology);
}
