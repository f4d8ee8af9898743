import { packagePath } from '../../package-path.js';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { PRIORITY_CLASSES } from '../task.js';
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
import { isTenantConfigError, TenantConfigError } from './errors.js';
import { TenantRegistry } from './registry.js';
import type { Tenant } from './tenant.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Fields of a tenant entry. Any other field is rejected, so a misspelled limit cannot pass. */
const TENANT_FIELDS = [
  'id',
  'keySha256',
  'tier',
  'requestsPerMinute',
  'tokensPerMinute',
  'maxInFlight',
  'budgetUsd',
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
  return new TenantRegistry(parseTenants(await readConfigText(path), path));
}

/**
 * Parses tenants YAML text. `file` names the source in error messages.
 * @throws TenantConfigError listing every invalid entry, each with its first problem.
 */
export function parseTenants(text: string, file: string): Tenant[] {
  const root = readObject(parseYaml(text, file), '(root)', failureFor(file));
  // Top-level `x-` blocks only hold YAML anchors, as in the route policy.
  const blocks = Object.keys(root).filter((field) => field.startsWith('x-'));
  rejectUnknownFields(root, ['tenants', ...blocks], '', file);
  const entries = readArray(root.tenants, 'tenants', failureFor(file));
  if (entries.length === 0) {
    throw new TenantConfigError(
      file,
      'tenants',
      'the list is empty, so no request can authenticate; add at least one tenant',
    );
  }
  const tenants: Tenant[] = [];
  const problems: TenantConfigError[] = [];
  entries.forEach((entry, index) => {
    try {
      tenants.push(parseTenant(entry, `tenants[${index}]`, file));
    } catch (error) {
      if (!isTenantConfigError(error)) throw error;
      problems.push(error);
    }
  });
  if (problems.length > 0) throw TenantConfigError.combine(file, problems);
  rejectDuplicates(tenants, file);
  return tenants;
}

function parseTenant(entry: unknown, where: string, file: string): Tenant {
  const fail = failureFor(file);
  const raw = readObject(entry, where, fail);
  rejectUnknownFields(raw, TENANT_FIELDS, `${where}.`, file);
  const keySha256 = readKeySha256(raw.keySha256, `${where}.keySha256`, fail);
  return {
    id: readString(raw.id, `${where}.id`, fail),
    keySha256,
    requestsPerMinute: readPositiveInteger(
      raw.requestsPerMinute,
      `${where}.requestsPerMinute`,
      fail,
    ),
    tokensPerMinute: readPositiveInteger(raw.tokensPerMinute, `${where}.tokensPerMinute`, fail),
    maxInFlight: readPositiveInteger(raw.maxInFlight, `${where}.maxInFlight`, fail),
    tier: readOneOf(raw.tier, PRIORITY_CLASSES, `${where}.tier`, fail),
    budgetUsd: readNumber(raw.budgetUsd, `${where}.budgetUsd`, fail),
    ...(raw.maxRunning === undefined
      ? {}
      : { maxRunning: readPositiveInteger(raw.maxRunning, `${where}.maxRunning`, fail) }),
  };
}

/** Reads a key hash. The received value is withheld, because a wrong entry may be a plaintext key. */
function readKeySha256(value: unknown, field: string, fail: FieldFailure): string {
  if (typeof value === 'string' && SHA256_HEX.test(value)) return value;
  const received =
    typeof value === 'string'
      ? `a string of ${value.length} characters`
      : `a ${value === undefined ? 'missing' : typeof value} value`;
  return fail(
    field,
    '64 lowercase hex digits (a sha256, never a plaintext key)',
    new WithheldValue(received),
  );
}

/**
 * Rejects fields outside `known`. The values are never quoted, and a field whose name
 * suggests a key gets its own message, because a plaintext key must not stay in the file.
 */
function rejectUnknownFields(
  raw: Record<string, unknown>,
  known: readonly string[],
  prefix: string,
  file: string,
): void {
  for (const field of Object.keys(raw)) {
    if (known.includes(field)) continue;
    if (PLAINTEXT_KEY_FIELD.test(field)) {
      throw new TenantConfigError(
        file,
        `${prefix}${field}`,
        "unknown field, and the tenants file must never contain a plaintext key; remove it and put the key's hex sha256 in keySha256",
      );
    }
    throw new TenantConfigError(
      file,
      `${prefix}${field}`,
      `unknown field; known fields: ${known.join(', ')}`,
    );
  }
}

/**
 * Rejects a tenant id or key hash that an earlier entry already has, naming that entry. The
 * hash itself is not quoted.
 */
function rejectDuplicates(tenants: readonly Tenant[], file: string): void {
  const firstById = new Map<string, number>();
  const firstByKey = new Map<string, number>();
  tenants.forEach((tenant, index) => {
    const sameId = firstById.get(tenant.id);
    if (sameId !== undefined) {
      throw new TenantConfigError(
        file,
        `tenants[${index}].id`,
        `duplicate id ${tenant.id}, also the id of tenants[${sameId}]; give each tenant its own id`,
      );
    }
    const sameKey = firstByKey.get(tenant.keySha256);
    if (sameKey !== undefined) {
      const owner = tenants[sameKey]?.id ?? '';
      throw new TenantConfigError(
        file,
        `tenants[${index}].keySha256`,
        `duplicate key hash, also the keySha256 of tenants[${sameKey}] (${owner}); give each tenant its own API key and put its sha256 here`,
      );
    }
    firstById.set(tenant.id, index);
    firstByKey.set(tenant.keySha256, index);
  });
}

/** Returns a FieldFailure that throws a TenantConfigError for `file`. */
export function failureFor(file: string): FieldFailure {
  return (field, expected, received, hint) => {
    throw TenantConfigError.invalidField(file, field, expected, received, hint);
  };
}

export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TenantConfigError(path, '(file)', `could not be read: ${reason}`);
  }
}

/**
 * Parses YAML text. A syntax error names its line and column but not the line's text, which
 * may hold a plaintext key.
 */
export function parseYaml(text: string, file: string): unknown {
  try {
    return parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const reason = (message.split('\n', 1)[0] ?? message).replace(/:$/, '');
    throw new TenantConfigError(file, '(file)', `invalid YAML: ${reason}`);
  }
}
