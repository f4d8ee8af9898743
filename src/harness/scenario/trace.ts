import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** One trace row, with its arrival offset already windowed and sped up. */
export interface TraceRow {
  /** 1-based line number in the file; the header is line 1. */
  line: number;
  /** Milliseconds after the replay start. */
  offsetMs: number;
  contextTokens: number;
  generatedTokens: number;
}

export interface ReadTraceOptions {
  /** Factor that divides every offset. @defaultValue 1 */
  speedUp?: number;
  /** Trace window in trace seconds (before the speed-up), counted from the first row. */
  window?: { startSec: number; durationSec: number };
  /** Maximum number of rows to yield. */
  limit?: number;
}

const HEADER = ['TIMESTAMP', 'ContextTokens', 'GeneratedTokens'];
/** `2023-11-16 18:15:46.6805900`: UTC, 7 fractional digits (100 ns units). */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{7})$/;
const INTEGER = /^\d+$/;
/** A timestamp close to the format: `T` or a space, 0 to 7 fractional digits, an optional `Z`. */
const NEAR_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?Z?$/;
/** An example in the format, named in the fixes of messages. */
const TIMESTAMP_EXAMPLE = '2023-11-16 18:15:46.6805900';

/** Raised for a trace file whose header or a row cannot be parsed. */
export class TraceFormatError extends Error {
  readonly code = 'TRACE_INVALID';

  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    detail: string,
  ) {
    super(`${file}:${line}: invalid ${field}: ${detail}`);
    this.name = 'TraceFormatError';
  }
}

export function isTraceFormatError(error: unknown): error is TraceFormatError {
  return error instanceof TraceFormatError;
}

/** Stop point of a trace read: the window end, the row limit or the end of the file. */
export type TraceEnd = 'window' | 'limit' | 'file';

/**
 * Streams a `TIMESTAMP,ContextTokens,GeneratedTokens` trace, one row at a time, and returns
 * the stop point. Offsets are relative to the first row (or to the window start),
 * divided by `speedUp`. Blank lines and lines that start with `#`, such as a note that the
 * rows are synthetic, are skipped, and the first other line is the header.
 * @throws TraceFormatError naming the file, line and field of the first bad row.
 */
export async function* readTrace(
  file: string,
  options: ReadTraceOptions = {},
): AsyncGenerator<TraceRow, TraceEnd> {
  const speedUp = checkSpeedUp(options.speedUp ?? 1);
  const windowStartMs = (options.window?.startSec ?? 0) * 1000;
  const windowEndMs = windowStartMs + (options.window?.durationSec ?? Infinity) * 1000;
  const limit = options.limit ?? Infinity;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let lineNumber = 0;
  let headerRead = false;
  let first: ParsedRow | undefined;
  let previous: { line: number; row: ParsedRow } | undefined;
  let yielded = 0;
  try {
    for await (const text of lines) {
      lineNumber += 1;
      if (isCommentOrBlank(text, lineNumber)) continue;
      if (!headerRead) {
        checkHeader(file, lineNumber, text);
        headerRead = true;
        continue;
      }
      const row = parseRow(file, lineNumber, text);
      if (previous !== undefined) checkOrder(file, previous, lineNumber, row);
      previous = { line: lineNumber, row };
      first ??= row;
      const traceOffsetMs = offsetBetween(first, row);
      if (traceOffsetMs < windowStartMs) continue;
      // Rows come in TIMESTAMP order, which checkOrder enforces, so no row after the first one
      // past the window end can fall inside it, and the rest of the file is not read.
      if (traceOffsetMs >= windowEndMs) return 'window';
      if (yielded >= limit) return 'limit';
      yielded += 1;
      yield {
        line: lineNumber,
        offsetMs: (traceOffsetMs - windowStartMs) / speedUp,
        contextTokens: row.contextTokens,
        generatedTokens: row.generatedTokens,
      };
    }
  } finally {
    lines.close();
  }
  return yielded >= limit ? 'limit' : 'file';
}

/** Reads a whole trace (or its window) into memory, and returns the rows and the stop point. */
export async function loadTraceRows(
  file: string,
  options: ReadTraceOptions = {},
): Promise<{ rows: TraceRow[]; end: TraceEnd }> {
  const rows: TraceRow[] = [];
  const reader = readTrace(file, options);
  for (;;) {
    const next = await reader.next();
    if (next.done === true) return { rows, end: next.value };
    rows.push(next.value);
  }
}

/** Reads a whole trace (or its window) into memory. */
export async function loadTrace(file: string, options: ReadTraceOptions = {}): Promise<TraceRow[]> {
  return (await loadTraceRows(file, options)).rows;
}

function checkSpeedUp(speedUp: number): number {
  if (!Number.isFinite(speedUp) || speedUp <= 0) {
    throw new RangeError(`speedUp must be a positive number, got ${String(speedUp)}`);
  }
  return speedUp;
}

/** Returns whether a line is blank or a `#` comment. A byte order mark on line 1 is ignored. */
function isCommentOrBlank(text: string, line: number): boolean {
  const trimmed = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
  return trimmed === '' || trimmed.startsWith('#');
}

function checkHeader(file: string, line: number, text: string): void {
  const columns = text
    .replace(/^\uFEFF/, '')
    .trim()
    .split(',');
  if (columns.join(',') !== HEADER.join(',')) {
    const detail =
      `expected "${HEADER.join(',')}", got "${text}"; make it the first line that is not ` +
      'blank or a # comment';
    throw new TraceFormatError(file, line, 'header', detail);
  }
}

interface ParsedRow {
  /** The TIMESTAMP field as written in the file. */
  timestamp: string;
  /** Whole epoch milliseconds and the remaining fraction in 100 ns units, kept apart for precision. */
  wholeMs: number;
  fraction: number;
  contextTokens: number;
  generatedTokens: number;
}

function parseRow(file: string, line: number, text: string): ParsedRow {
  const fields = text.trim().split(',');
  if (fields.length !== HEADER.length) {
    const detail =
      `expected ${HEADER.length} comma-separated fields, got ${fields.length} in "${text.trim()}"; ` +
      `write it as ${HEADER.join(',')}, such as "${TIMESTAMP_EXAMPLE},374,44", or start it ` +
      'with # to make it a comment';
    throw new TraceFormatError(file, line, 'row', detail);
  }
  const [timestamp = '', context = '', generated = ''] = fields;
  return {
    timestamp,
    ...parseTimestamp(file, line, timestamp),
    contextTokens: parseCount(file, line, 'ContextTokens', context),
    generatedTokens: parseCount(file, line, 'GeneratedTokens', generated),
  };
}

function offsetBetween(first: ParsedRow, row: ParsedRow): number {
  return row.wholeMs - first.wholeMs + (row.fraction - first.fraction) / 10_000;
}

/**
 * Rejects a row whose TIMESTAMP is earlier than the row before it. The replay sends rows in
 * file order and cuts the run at the first row past its window, so a row out of order would be
 * sent late, or dropped when it falls before the window start.
 */
function checkOrder(
  file: string,
  previous: { line: number; row: ParsedRow },
  line: number,
  row: ParsedRow,
): void {
  if (offsetBetween(previous.row, row) >= 0) return;
  const detail =
    `"${row.timestamp}" is earlier than "${previous.row.timestamp}" on line ${previous.line}; ` +
    'sort the rows by TIMESTAMP';
  throw new TraceFormatError(file, line, 'TIMESTAMP', detail);
}

/** Parses a UTC timestamp into whole epoch seconds (as ms) and its 7-digit fraction. */
function parseTimestamp(
  file: string,
  line: number,
  text: string,
): Pick<ParsedRow, 'wholeMs' | 'fraction'> {
  const match = TIMESTAMP.exec(text);
  if (match === null) {
    const detail = `expected "YYYY-MM-DD HH:MM:SS.fffffff", got "${text}"; ${timestampFix(text)}`;
    throw new TraceFormatError(file, line, 'TIMESTAMP', detail);
  }
  const [, year, month, day, hour, minute, second, fraction] = match.map(Number);
  const wholeMs = Date.UTC(
    year ?? 0,
    (month ?? 1) - 1,
    day ?? 1,
    hour ?? 0,
    minute ?? 0,
    second ?? 0,
  );
  const check = new Date(wholeMs);
  // Date.UTC rolls out-of-range values over, so month 13 or 2023-02-30 would become another date.
  const rolled =
    check.getUTCMonth() + 1 !== month ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second;
  if (rolled) {
    throw new TraceFormatError(file, line, 'TIMESTAMP', `"${text}" is not a calendar time`);
  }
  return { wholeMs, fraction: fraction ?? 0 };
}

/**
 * Returns the fix for a timestamp out of format: the same time written in the format when
 * only its separator, its fraction's length or a trailing `Z` differ, or else an example.
 */
function timestampFix(text: string): string {
  const near = NEAR_TIMESTAMP.exec(text);
  if (near === null) {
    return `write it in UTC with 7 fractional digits, such as "${TIMESTAMP_EXAMPLE}"`;
  }
  const [, date, time, fraction = ''] = near;
  return `write "${date} ${time}.${fraction.padEnd(7, '0')}", in UTC with 7 fractional digits`;
}

function parseCount(file: string, line: number, field: string, text: string): number {
  if (!INTEGER.test(text)) {
    const detail = `expected a non-negative integer, got "${text}"; write a whole number of tokens`;
    throw new TraceFormatError(file, line, field, detail);
  }
  return Number(text);
}
