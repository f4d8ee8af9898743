import { packagePath } from '../../package-path.js';
import { readFile } from 'node:fs/promises';
import type { SourceLocation } from '../router/policy-errors.js';
import { PRIORITY_CLASSES, type PriorityClass } from '../task.js';
import {
  type FieldFailure,
  readArray,
  readNumber,
  readObject,
  readOneOf,
  readPositiveInteger,
  readString,
  WithheldValue,
} from './config-fields.js';
import { FILE_FIELD, isTenantConfigError, TenantConfigError } from './errors.js';
import { TenantRegistry } from './registry.js';
import { BUDGET_PERIODS, type BudgetPeriod, type Tenant } from './tenant.js';
import { type TenantWarning, tenantWarnings } from './tenant-warnings.js';
import {
  type ConfigSource,
  type FieldPath,
  fieldName,
  locateField,
  parseConfigSource,
} from './yaml-source.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Form of a tenant id: 1 to 64 lowercase letters, digits, `.`, `_` or `-`, starting with a
 * letter or digit. Ids go into Redis key names, metric labels and reports, so the form excludes
 * braces, colons, spaces and quotes.
 */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The tenant id form in the words of an error message. */
const TENANT_ID_FORM =
  "an id of 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit";

/** Fields of a tenant entry. Any other field is rejected, so a misspelled limit cannot pass. */
const TENANT_FIELDS = [
  'id',
  'keySha256',
  'tier',
  'requestsPerMinute',
  'tokensPerMinute',
  'maxInFlight',
  'budgetUsd',
  'budgetPeriod',
  'maxRunning',
] as const;

/**
 * Field names that suggest a plaintext key, which the tenants file must never contain, such
 * as `key`, `apiKey`, `api_token` or `secret`. A misspelling of `keySha256` is not one.
 */
const PLAINTEXT_KEY_FIELD = /^(api[-_]?)?(key|token)$|secret|password|bearer/i;

/** Default location of the tenants file, relative to the working directory. */
export const DEFAULT_TENANTS_PATH = packagePath('fixtures/tenants.yaml');

/**
 * Reads and validates a tenants file.
 * @throws TenantConfigError naming the file and the field when it is missing or invalid.
 */
export async function loadTenants(path: string = DEFAULT_TENANTS_PATH): Promise<TenantRegistry> {
  return (await readTenantsFile(path)).registry;
}

/** A tenants file as read: its bytes, which the platform's start record hashes, and its tenants. */
export interface TenantsFile {
  bytes: Buffer;
  registry: TenantRegistry;
}

/**
 * Reads and validates a tenants file as {@link loadTenants} does, keeping its bytes.
 * @throws TenantConfigError naming the file and the field when it is missing or invalid.
 */
export async function readTenantsFile(path: string): Promise<TenantsFile> {
  const bytes = await readConfigBytes(path);
  return { bytes, registry: new TenantRegistry(parseTenants(bytes.toString('utf8'), path)) };
}

/** A tenant warning at the line and column of its field in the tenants file. */
export interface LocatedTenantWarning extends TenantWarning {
  /** Path of the field, such as `tenants[1].budgetUsd`. */
  fieldPath: string;
  location: SourceLocation;
}

/** A tenants file as loaded, with the warnings about its settings. */
export interface CheckedTenants {
  registry: TenantRegistry;
  warnings: LocatedTenantWarning[];
}

/**
 * Reads and validates a tenants file as {@link loadTenants} does, and locates each of its
 * {@link tenantWarnings}.
 * @throws TenantConfigError naming the file and the field when it is missing or invalid.
 */
export async function checkTenantsFile(path: string): Promise<CheckedTenants> {
  const source = parseConfigSource(await readConfigText(path), path);
  const tenants = tenantsOf(source);
  const warnings = tenantWarnings(tenants, path).map((warning) => {
    // Ids are unique in a valid file, and its tenants are in the order of its entries.
    const index = tenants.findIndex((tenant) => tenant.id === warning.tenantId);
    const fieldPath = ['tenants', index, warning.field];
    return {
      ...warning,
      fieldPath: fieldName(fieldPath),
      location: locateField(source, fieldPath),
    };
  });
  return { registry: new TenantRegistry(tenants), warnings };
}

/**
 * Parses tenants YAML text. `file` names the source in error messages.
 * @throws TenantConfigError listing every problem found, each at its line and column and
 * with the id of its tenant entry when the entry has a valid one.
 */
export function parseTenants(text: string, file: string): Tenant[] {
  return tenantsOf(parseConfigSource(text, file));
}

/** Returns the tenants of a parsed file, or throws every problem as parseTenants does. */
function tenantsOf(source: ConfigSource): Tenant[] {
  const problems: TenantConfigError[] = [];
  const tenants = readTenants(source, problems);
  if (problems.length > 0) {
    // Problems are found field by field and duplicates last, so they are put in file order.
    const sorted = problems.toSorted((a, b) => compareLocations(a.location, b.location));
    throw TenantConfigError.combine(source.file, sorted);
  }
  return tenants;
}

function compareLocations(a: SourceLocation | undefined, b: SourceLocation | undefined): number {
  return (a?.line ?? 0) - (b?.line ?? 0) || (a?.column ?? 0) - (b?.column ?? 0);
}

/** Reads every entry, adding each problem found to `problems`. */
function readTenants(source: ConfigSource, problems: TenantConfigError[]): Tenant[] {
  // YAML parses a file of nothing but blank lines and comments to null.
  if (source.value === null || source.value === undefined) {
    problems.push(
      new TenantConfigError(
        source.file,
        FILE_FIELD,
        'the file contains no tenants; write a `tenants:` list, as fixtures/tenants.yaml does',
        { location: { line: 1, column: 1 } },
      ),
    );
    return [];
  }
  const root = readField(source, problems, [], undefined, (field, fail) =>
    readObject(source.value, field, fail),
  );
  if (root === undefined) return [];
  // Top-level `x-` blocks only hold YAML anchors, as in the route policy.
  const blocks = Object.keys(root).filter((field) => field.startsWith('x-'));
  rejectUnknownFields(source, problems, root, ['tenants', ...blocks], [], undefined);
  const entries = readField(source, problems, ['tenants'], undefined, (field, fail) =>
    readArray(root.tenants, field, fail),
  );
  if (entries === undefined) return [];
  if (entries.length === 0) {
    problems.push(
      new TenantConfigError(
        source.file,
        'tenants',
        'the list is empty, so no request can authenticate; add at least one tenant',
        { location: locateField(source, ['tenants']) },
      ),
    );
    return [];
  }
  const read = entries.map((entry, index) => readTenant(source, problems, entry, index));
  rejectDuplicates(source, problems, read);
  return read.flatMap((entry) => (entry.tenant === undefined ? [] : [entry.tenant]));
}

/** A tenant entry as read: the tenant when every field is valid, and its id and key hash. */
interface TenantEntry {
  index: number;
  id: string | undefined;
  keySha256: string | undefined;
  tenant: Tenant | undefined;
}

/** Reads one entry, adding each of its problems, not only the first, to `problems`. */
function readTenant(
  source: ConfigSource,
  problems: TenantConfigError[],
  entry: unknown,
  index: number,
): TenantEntry {
  const path = ['tenants', index];
  const raw = readField(source, problems, path, undefined, (field, fail) =>
    readObject(entry, field, fail),
  );
  if (raw === undefined) {
    return { index, id: undefined, keySha256: undefined, tenant: undefined };
  }

  const tenantId =
    typeof raw.id === 'string' && TENANT_ID_PATTERN.test(raw.id) ? raw.id : undefined;
  const before = problems.length;
  rejectUnknownFields(source, problems, raw, TENANT_FIELDS, path, tenantId);
  const read = <T>(name: string, reader: FieldReader<T>) =>
    readField(source, problems, [...path, name], tenantId, (field, fail) =>
      reader(raw[name], field, fail),
    );
  const id = read('id', readTenantId);
  const keySha256 = read('keySha256', readKeySha256);
  const fields = {
    tier: read('tier', readTier),
    requestsPerMinute: read('requestsPerMinute', readPositiveInteger),
    tokensPerMinute: read('tokensPerMinute', readPositiveInteger),
    maxInFlight: read('maxInFlight', readPositiveInteger),
    budgetUsd: read('budgetUsd', readBudget),
    budgetPeriod:
      raw.budgetPeriod === undefined ? undefined : read('budgetPeriod', readBudgetPeriod),
    maxRunning: raw.maxRunning === undefined ? undefined : read('maxRunning', readPositiveInteger),
  };

  const valid = problems.length === before && id !== undefined && keySha256 !== undefined;
  const tenant = valid ? completeTenant({ id, keySha256, ...fields }) : undefined;
  return { index, id, keySha256, tenant };
}

type FieldReader<T> = (value: unknown, field: string, fail: FieldFailure) => T;

function readTier(value: unknown, field: string, fail: FieldFailure): PriorityClass {
  return readOneOf(value, PRIORITY_CLASSES, field, fail);
}

function readBudget(value: unknown, field: string, fail: FieldFailure): number {
  return readNumber(value, field, fail);
}

/** Other spellings of a budget period, each with the period it means. */
const BUDGET_PERIOD_SPELLINGS: Readonly<Record<string, BudgetPeriod>> = {
  daily: 'day',
  monthly: 'month',
};

function readBudgetPeriod(value: unknown, field: string, fail: FieldFailure): BudgetPeriod {
  const period = BUDGET_PERIODS.find((candidate) => candidate === value);
  if (period !== undefined) return period;
  return fail(field, `one of ${BUDGET_PERIODS.join(', ')}`, value, budgetPeriodHint(value));
}

/**
 * Returns `; write day` for a period written in other case, with spaces or as `daily`, and
 * the default for an empty value.
 */
function budgetPeriodHint(value: unknown): string {
  if (value === null) return '; remove budgetPeriod for the default, total';
  if (typeof value !== 'string') return '';
  const word = value.trim().toLowerCase();
  const period = BUDGET_PERIODS.find((candidate) => candidate === word);
  const meant = period ?? BUDGET_PERIOD_SPELLINGS[word];
  return meant === undefined ? '' : `; write ${meant}`;
}

/** Reads a tenant id of the {@link TENANT_ID_PATTERN} form. */
function readTenantId(value: unknown, field: string, fail: FieldFailure): string {
  // YAML reads an unquoted 42 or true as a number or a boolean.
  const scalar = typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
  if (TENANT_ID_PATTERN.test(scalar)) {
    const fix = `; write the id in quotes, as in id: "${scalar}", so YAML reads it as a string`;
    return fail(field, 'a non-empty string', value, fix);
  }
  const id = readString(value, field, fail);
  if (TENANT_ID_PATTERN.test(id)) return id;
  const suggestion = suggestTenantId(id);
  const example = suggestion === undefined ? '' : `, such as ${suggestion}`;
  const length = id.length > 64 ? `it has ${id.length} characters, so ` : '';
  const fix = `; ${length}rename the tenant to an id of that form${example}, because ids go into Redis keys, metric labels and reports`;
  return fail(field, TENANT_ID_FORM, id, fix);
}

/** Returns `id` in lowercase with each run of other characters as `-`, if that is a valid id. */
function suggestTenantId(id: string): string | undefined {
  const suggestion = id
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '');
  return TENANT_ID_PATTERN.test(suggestion) ? suggestion : undefined;
}

/** A tenant's fields as read, each undefined when missing or invalid. */
type TenantFields = { [Field in keyof Tenant]: Tenant[Field] | undefined };

/** Returns the tenant when every required field was read, or undefined. */
function completeTenant(fields: TenantFields): Tenant | undefined {
  const { id, keySha256, tier, requestsPerMinute, tokensPerMinute, maxInFlight, budgetUsd } =
    fields;
  if (
    id === undefined ||
    keySha256 === undefined ||
    tier === undefined ||
    requestsPerMinute === undefined ||
    tokensPerMinute === undefined ||
    maxInFlight === undefined ||
    budgetUsd === undefined
  ) {
    return undefined;
  }
  const tenant: Tenant = {
    id,
    keySha256,
    requestsPerMinute,
    tokensPerMinute,
    maxInFlight,
    tier,
    budgetUsd,
  };
  if (fields.budgetPeriod !== undefined) tenant.budgetPeriod = fields.budgetPeriod;
  if (fields.maxRunning !== undefined) tenant.maxRunning = fields.maxRunning;
  return tenant;
}

/**
 * Runs `read` on the field at `path` with a FieldFailure that places the error at the field's
 * line and column. Adds a failure to `problems` and returns undefined for it.
 */
function readField<T>(
  source: ConfigSource,
  problems: TenantConfigError[],
  path: FieldPath,
  tenantId: string | undefined,
  read: (field: string, fail: FieldFailure) => T,
): T | undefined {
  const place = { location: locateField(source, path), tenantId };
  const fail: FieldFailure = (field, expected, received, hint) => {
    throw TenantConfigError.invalidField(source.file, field, expected, received, hint, place);
  };
  try {
    return read(fieldName(path), fail);
  } catch (error) {
    if (!isTenantConfigError(error)) throw error;
    problems.push(error);
    return undefined;
  }
}

/** Reads a key hash. The received value is withheld, because a wrong entry may be a plaintext key. */
function readKeySha256(value: unknown, field: string, fail: FieldFailure): string {
  if (typeof value === 'string' && SHA256_HEX.test(value)) return value;
  const expected = '64 lowercase hex digits (a sha256, never a plaintext key)';
  if (value === undefined) return fail(field, expected, undefined);
  if (typeof value !== 'string') {
    return fail(field, expected, new WithheldValue(`a ${typeof value} value`));
  }
  const received = new WithheldValue(`a string of ${value.length} characters`);
  // An uppercase digest, as some tools print it, names the same key in other letters.
  if (/^[0-9a-fA-F]{64}$/.test(value)) {
    return fail(field, expected, received, '; write its hex digits in lowercase');
  }
  return fail(field, expected, received, KEY_HASH_HINT);
}

/** Fix of a keySha256 that is no hash, naming a standard command that prints one. */
const KEY_HASH_HINT =
  "; put the hex sha256 of the tenant's API key here, as `printf %s KEY | sha256sum` prints it";

/**
 * Adds a problem for each field outside `known`. The values are never quoted, and a field
 * whose name suggests a key gets its own message, because a plaintext key must not stay in
 * the file.
 */
function rejectUnknownFields(
  source: ConfigSource,
  problems: TenantConfigError[],
  raw: Record<string, unknown>,
  known: readonly string[],
  path: FieldPath,
  tenantId: string | undefined,
): void {
  for (const field of Object.keys(raw)) {
    if (known.includes(field)) continue;
    const detail = PLAINTEXT_KEY_FIELD.test(field)
      ? "unknown field, and the tenants file must never contain a plaintext key; remove it and put the key's hex sha256 in keySha256"
      : `unknown field; known fields: ${known.join(', ')}`;
    const fieldPath = [...path, field];
    const location = locateField(source, fieldPath);
    problems.push(
      new TenantConfigError(source.file, fieldName(fieldPath), detail, { location, tenantId }),
    );
  }
}

/**
 * Adds a problem for each tenant id or key hash that an earlier entry already has, naming
 * that entry and its line. The hash itself is not quoted.
 */
function rejectDuplicates(
  source: ConfigSource,
  problems: TenantConfigError[],
  entries: readonly TenantEntry[],
): void {
  const firstById = new Map<string, TenantEntry>();
  const firstByKey = new Map<string, TenantEntry>();
  const report = (entry: TenantEntry, field: string, detail: string) => {
    const path = ['tenants', entry.index, field];
    const location = locateField(source, path);
    const place = { location, tenantId: entry.id };
    problems.push(new TenantConfigError(source.file, fieldName(path), detail, place));
  };
  const lineOf = (entry: TenantEntry) => locateField(source, ['tenants', entry.index]).line;
  for (const entry of entries) {
    const sameId = entry.id === undefined ? undefined : firstById.get(entry.id);
    if (sameId !== undefined) {
      report(
        entry,
        'id',
        `duplicate id ${entry.id}, also the id of tenants[${sameId.index}] on line ${lineOf(sameId)}; give each tenant its own id`,
      );
    }
    const sameKey = entry.keySha256 === undefined ? undefined : firstByKey.get(entry.keySha256);
    if (sameKey !== undefined) {
      const owner = sameKey.id === undefined ? '' : ` (${sameKey.id})`;
      report(
        entry,
        'keySha256',
        `duplicate key hash, also the keySha256 of tenants[${sameKey.index}]${owner} on line ${lineOf(sameKey)}; give each tenant its own API key and put its sha256 here`,
      );
    }
    if (entry.id !== undefined && sameId === undefined) firstById.set(entry.id, entry);
    if (entry.keySha256 !== undefined && sameKey === undefined) {
      firstByKey.set(entry.keySha256, entry);
    }
  }
}

/** Returns a FieldFailure that throws a TenantConfigError for `file`. */
export function failureFor(file: string): FieldFailure {
  return (field, expected, received, hint) => {
    throw TenantConfigError.invalidField(file, field, expected, received, hint);
  };
}

export async function readConfigText(path: string): Promise<string> {
  return (await readConfigBytes(path)).toString('utf8');
}

async function readConfigBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TenantConfigError(path, FILE_FIELD, `could not be read: ${reason}`, { cause: error });
  }
}

/**
 * Parses YAML text. A syntax error names its line and column but not the line's text, which
 * may hold a plaintext key.
 */
export function parseYaml(text: string, file: string): unknown {
  return parseConfigSource(text, file).value;
}
