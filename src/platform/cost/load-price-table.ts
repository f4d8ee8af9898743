import { packagePath } from '../../package-path.js';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import {
  type ConfigObject,
  type FieldFailure,
  readNumber,
  readObject,
  readPositiveInteger,
  readString,
} from '../tenants/config-fields.js';
import { PriceTableError } from './errors.js';
import { type ExecutorPrices, type ModelPrice, PriceTable } from './price-table.js';

/** Default location of the price table, relative to the working directory. */
export const DEFAULT_PRICES_PATH = packagePath('fixtures/prices.yaml');

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads and validates a price table file.
 * @throws PriceTableError naming the file and the field when it is missing or invalid.
 */
export async function loadPriceTable(path: string = DEFAULT_PRICES_PATH): Promise<PriceTable> {
  return (await readPriceTableFile(path)).table;
}

/** A price table file as read: its bytes, which a run record hashes, and the table they hold. */
export interface PriceTableFile {
  bytes: Buffer;
  table: PriceTable;
}

/**
 * Reads and validates a price table file, keeping its bytes.
 * @throws PriceTableError naming the file and the field when it cannot be read or is invalid.
 */
export async function readPriceTableFile(path: string): Promise<PriceTableFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PriceTableError(
      path,
      '(file)',
      `could not be read: ${reason}; pass the path of a readable price table`,
      { cause: error },
    );
  }
  return { bytes, table: parsePriceTable(bytes.toString('utf8'), path) };
}

/** Parses price table YAML text. `file` names the source in error messages. */
export function parsePriceTable(text: string, file: string): PriceTable {
  const fail: FieldFailure = (field, expected, received, hint) => {
    throw PriceTableError.invalidField(file, field, expected, received, hint);
  };
  const document = parseYaml(text, file);
  // YAML parses a file of nothing but blank lines and comments to null.
  if (document === null || document === undefined) {
    throw new PriceTableError(
      file,
      '(file)',
      'the file contains no price table; write effectiveDate, source, models and executors, ' +
        'as fixtures/prices.yaml does',
    );
  }
  const root = readObject(document, '(root)', fail);
  rejectUnknownFields(root, ROOT_FIELDS, '', file);
  const effectiveDate = readString(root.effectiveDate, 'effectiveDate', fail);
  if (!isCalendarDate(effectiveDate)) {
    fail('effectiveDate', 'a calendar date as YYYY-MM-DD', effectiveDate);
  }
  return new PriceTable({
    effectiveDate,
    source: readString(root.source, 'source', fail),
    models: readModels(readObject(root.models, 'models', fail), fail, file),
    executors: readExecutors(readObject(root.executors, 'executors', fail), fail, file),
  });
}

function readModels(raw: ConfigObject, fail: FieldFailure, file: string) {
  const models: Record<string, Record<string, ModelPrice>> = {};
  for (const [provider, entries] of Object.entries(raw)) {
    rejectPrototypeKey(provider, `models.${provider}`, file);
    const byModel: Record<string, ModelPrice> = {};
    for (const [model, price] of Object.entries(readObject(entries, `models.${provider}`, fail))) {
      const where = `models.${provider}.${model}`;
      rejectPrototypeKey(model, where, file);
      const fields = readObject(price, where, fail);
      rejectUnknownFields(fields, MODEL_PRICE_FIELDS, where, file);
      byModel[model] = {
        inputPerMillion: readNumber(fields.inputPerMillion, `${where}.inputPerMillion`, fail),
        outputPerMillion: readNumber(fields.outputPerMillion, `${where}.outputPerMillion`, fail),
      };
    }
    models[provider] = byModel;
  }
  return models;
}

function readExecutors(raw: ConfigObject, fail: FieldFailure, file: string): ExecutorPrices {
  rejectUnknownFields(raw, EXECUTOR_FIELDS, 'executors', file);
  const worker = readObject(raw.worker, 'executors.worker', fail);
  rejectUnknownFields(worker, WORKER_FIELDS, 'executors.worker', file);
  const serverless = readObject(raw.serverless, 'executors.serverless', fail);
  rejectUnknownFields(serverless, SERVERLESS_FIELDS, 'executors.serverless', file);
  return {
    worker: {
      perVcpuHour: readNumber(worker.perVcpuHour, 'executors.worker.perVcpuHour', fail),
      perGbHour: readNumber(worker.perGbHour, 'executors.worker.perGbHour', fail),
      vcpuPerWorker: readNumber(
        worker.vcpuPerWorker ?? DEFAULT_WORKER_SIZE.vcpuPerWorker,
        'executors.worker.vcpuPerWorker',
        fail,
        true,
      ),
      memoryGbPerWorker: readNumber(
        worker.memoryGbPerWorker ?? DEFAULT_WORKER_SIZE.memoryGbPerWorker,
        'executors.worker.memoryGbPerWorker',
        fail,
        true,
      ),
    },
    serverless: {
      perGbSecond: readNumber(serverless.perGbSecond, 'executors.serverless.perGbSecond', fail),
      perMillionRequests: readNumber(
        serverless.perMillionRequests,
        'executors.serverless.perMillionRequests',
        fail,
      ),
      memoryMbPerFunction: readPositiveInteger(
        serverless.memoryMbPerFunction ?? DEFAULT_FUNCTION_MEMORY_MB,
        'executors.serverless.memoryMbPerFunction',
        fail,
      ),
    },
  };
}

/** Fields of each mapping of a price table, in the order the error lists them. */
const ROOT_FIELDS = ['effectiveDate', 'source', 'models', 'executors'];
const MODEL_PRICE_FIELDS = ['inputPerMillion', 'outputPerMillion'];
const EXECUTOR_FIELDS = ['worker', 'serverless'];
const WORKER_FIELDS = ['perVcpuHour', 'perGbHour', 'vcpuPerWorker', 'memoryGbPerWorker'];
const SERVERLESS_FIELDS = ['perGbSecond', 'perMillionRequests', 'memoryMbPerFunction'];

/**
 * Rejects the key `__proto__`. YAML keeps it as an own key, but an assignment to a plain
 * object makes its value that object's prototype, and lookups of missing names then find it.
 */
function rejectPrototypeKey(key: string, field: string, file: string): void {
  if (key !== '__proto__') return;
  throw new PriceTableError(
    file,
    field,
    'invalid name __proto__; name a provider or model of the catalog, such as provider-a',
  );
}

/**
 * Rejects a field that the mapping at `where` does not define, because the loader would ignore
 * it. A misspelled optional field would otherwise keep its default without a warning.
 * @throws PriceTableError naming the first unknown field and the known ones.
 */
function rejectUnknownFields(
  raw: ConfigObject,
  known: readonly string[],
  where: string,
  file: string,
): void {
  for (const field of Object.keys(raw)) {
    if (known.includes(field)) continue;
    throw new PriceTableError(
      file,
      where === '' ? field : `${where}.${field}`,
      `unknown field; known fields: ${known.join(', ')}; remove it or correct its name`,
    );
  }
}

/** Size of a worker when the table names none: 0.25 vCPU and 0.5 GB, Fargate's smallest task. */
const DEFAULT_WORKER_SIZE = { vcpuPerWorker: 0.25, memoryGbPerWorker: 0.5 };

/** Memory of the serverless function when the table names none: 1,024 MB. */
const DEFAULT_FUNCTION_MEMORY_MB = 1024;

/** Returns whether `text` is YYYY-MM-DD and names a day that exists, so 2025-02-30 fails. */
function isCalendarDate(text: string): boolean {
  if (!ISO_DATE.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

function parseYaml(text: string, file: string): unknown {
  try {
    return parse(text);
  } catch (error) {
    // The parser's message goes on with a copy of the line under it, so only its first
    // line, which gives the line and column, is kept.
    const reason = error instanceof Error ? error.message : String(error);
    const firstLine = (reason.split('\n', 1)[0] ?? reason).replace(/:$/, '');
    throw new PriceTableError(file, '(file)', `invalid YAML: ${firstLine}`, { cause: error });
  }
}
