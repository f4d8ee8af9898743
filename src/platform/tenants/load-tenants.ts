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
} from './config-fields.js';
import { TenantConfigError } from './errors.js';
import { TenantRegistry } from './registry.js';
import type { Tenant } from './tenant.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Default location of the tenants file, relative to the working directory. */
export const DEFAULT_TENANTS_PATH = 'fixtures/tenants.yaml';

/**
 * Reads and validates a tenants file.
 * @throws TenantConfigError naming the file and the field when it is missing or invalid.
 */
export async function loadTenants(path: string = DEFAULT_TENANTS_PATH): Promise<TenantRegistry> {
  return new TenantRegistry(parseTenants(await readConfigText(path), path));
}

/** Parses tenants YAML text. `file` names the source in error messages. */
export function parseTenants(text: string, file: string): Tenant[] {
  const root = readObject(parseYaml(text, file), '(root)', failureFor(file));
  const entries = readArray(root.tenants, 'tenants', failureFor(file));
  const tenants = entries.map((entry, index) => parseTenant(entry, `tenants[${index}]`, file));
  rejectDuplicates(tenants, file);
  return tenants;
}

function parseTenant(entry: unknown, where: string, file: string): Tenant {
  const fail = failureFor(file);
  const raw = readObject(entry, where, fail);
  const keySha256 = readString(raw.keySha256, `${where}.keySha256`, fail);
  if (!SHA256_HEX.test(keySha256)) {
    // The received value is withheld: a wrong entry here may be a plaintext key.
    const received = `a value of ${keySha256.length} characters`;
    fail(
      `${where}.keySha256`,
      '64 lowercase hex digits (a sha256, never a plaintext key)',
      received,
    );
  }
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
  };
}

function rejectDuplicates(tenants: readonly Tenant[], file: string): void {
  const seenIds = new Set<string>();
  const seenKeys = new Set<string>();
  tenants.forEach((tenant, index) => {
    if (seenIds.has(tenant.id)) {
      throw new TenantConfigError(file, `tenants[${index}].id`, `duplicate id ${tenant.id}`);
    }
    if (seenKeys.has(tenant.keySha256)) {
      throw new TenantConfigError(file, `tenants[${index}].keySha256`, 'duplicate key hash');
    }
    seenIds.add(tenant.id);
    seenKeys.add(tenant.keySha256);
  });
}

/** Returns a FieldFailure that throws a TenantConfigError for `file`. */
export function failureFor(file: string): FieldFailure {
  return (field, expected, received) => {
    throw TenantConfigError.invalidField(file, field, expected, received);
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

export function parseYaml(text: string, file: string): unknown {
  try {
    return parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TenantConfigError(file, '(file)', `invalid YAML: ${reason}`);
  }
}
