import { resolve } from 'node:path';
import { loadTraceRows, type TraceRow } from './trace.js';
import type { ScenarioSpec } from './types.js';

/** Raised when a scenario's trace file cannot be read or has no rows to replay. */
export class TraceFileError extends Error {
  readonly code = 'TRACE_FILE_INVALID';

  constructor(
    readonly file: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TraceFileError';
  }
}

export function isTraceFileError(error: unknown): error is TraceFileError {
  return error instanceof TraceFileError;
}

/** Raised when a scenario's trace ends before the run does. */
export class TraceEndsEarlyError extends TraceFileError {
  constructor(
    file: string,
    message: string,
    /** Offset of the trace's last row in the run, in seconds. */
    readonly endSec: number,
    /** Trace seconds replayed per second of run. */
    readonly speedUp: number,
  ) {
    super(file, message);
    this.name = 'TraceEndsEarlyError';
  }
}

export function isTraceEndsEarlyError(error: unknown): error is TraceEndsEarlyError {
  return error instanceof TraceEndsEarlyError;
}

/**
 * Reads the trace rows a trace-replay scenario sends within `durationSec`, or returns
 * undefined for another arrival kind. Callers read them before they start a platform or
 * probe the target, so a missing, empty or too short trace fails at once.
 * @throws TraceFileError naming `scenario.arrival.file`, the path and the fix when the file
 *   cannot be read, no row falls in the run, or the file ends before the run does;
 *   TraceFormatError for a row that does not parse.
 */
export async function loadScenarioTrace(
  scenario: ScenarioSpec,
  durationSec: number,
): Promise<TraceRow[] | undefined> {
  const arrival = scenario.arrival;
  if (arrival.kind !== 'trace') return undefined;
  const file = arrival.file;
  const window = arrival.window ?? { startSec: 0, durationSec: durationSec * arrival.speedUp };
  let read: Awaited<ReturnType<typeof loadTraceRows>>;
  try {
    read = await loadTraceRows(file, { speedUp: arrival.speedUp, window, limit: arrival.limit });
  } catch (error) {
    throw unreadable(file, error);
  }
  const { rows, end } = read;
  const runMs = durationSec * 1000;
  const inRun = rows.filter((row) => row.offsetMs < runMs);
  if (inRun.length === 0) {
    throw new TraceFileError(
      file,
      `scenario.arrival.file: trace ${file} has no rows to replay in trace seconds ` +
        `${window.startSec} to ${window.startSec + window.durationSec} after its first row ` +
        `(${durationSec} s of run at speedUp ${arrival.speedUp}); pass a trace with ` +
        'TIMESTAMP,ContextTokens,GeneratedTokens rows in that window, or change arrival.window',
    );
  }
  const last = inRun.at(-1);
  if (end === 'file' && last !== undefined)
    throw endsEarly(file, last, durationSec, arrival.speedUp);
  return inRun;
}

/**
 * Returns the error for a trace whose last row comes before the run ends. The run would
 * then send nothing after that row, and its per-minute rates would average in the idle time.
 */
function endsEarly(
  file: string,
  last: TraceRow,
  durationSec: number,
  speedUp: number,
): TraceEndsEarlyError {
  const endSec = last.offsetMs / 1000;
  const fits = Math.floor(endSec);
  const fix =
    fits >= 1
      ? `pass --duration ${fits} or less, or set arrival.file to a trace that lasts the whole run`
      : 'set arrival.file to a trace that lasts the whole run';
  return new TraceEndsEarlyError(
    file,
    `scenario.arrival.file: trace ${file} ends ${endSec.toFixed(1)} s into the run at ` +
      `speedUp ${speedUp}, so the last ${(durationSec - endSec).toFixed(1)} s of the ` +
      `${durationSec} s run would send nothing and lower its per-minute rates; ${fix}`,
    endSec,
    speedUp,
  );
}

/** Wraps a file-system error in a TraceFileError; other errors are returned as they are. */
function unreadable(file: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${file} (resolved to ${resolve(file)})`;
  if (code === 'ENOENT') {
    return new TraceFileError(
      file,
      `scenario.arrival.file: trace ${where} not found; relative paths start at the ` +
        'working directory, so set arrival.file to an existing CSV file, relative to it ' +
        'or absolute',
      { cause: error },
    );
  }
  if (code === 'EISDIR' || code === 'EACCES') {
    const reason = code === 'EISDIR' ? 'is a folder' : 'is not readable';
    return new TraceFileError(
      file,
      `scenario.arrival.file: trace ${where} ${reason}; set arrival.file to a readable CSV file`,
      { cause: error },
    );
  }
  return error;
}
