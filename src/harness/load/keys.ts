import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

/** Raised when the demo key file is missing, unreadable or lacks a tenant's key. */
export class TenantKeysError extends Error {
  readonly code = 'TENANT_KEYS_INVALID';

  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'TenantKeysError';
  }
}

export function isTenantKeysError(error: unknown): error is TenantKeysError {
  return error instanceof TenantKeysError;
}

/**
 * Reads a YAML mapping of tenant id to plaintext demo API key (at the top level or
 * under `keys:`) and checks that
 * every tenant in `tenantIds` has one. Keys are returned, never printed.
 */
export async function loadTenantKeys(
  file: string,
  tenantIds: readonly string[],
): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TenantKeysError(
      file,
      `cannot read the tenant key file (${reason}); pass keys or keysFile`,
    );
  }
  const parsed: unknown = parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TenantKeysError(file, 'expected a mapping of tenant id to API key');
  }
  const mapping = parsed as Record<string, unknown>;
  const nested = mapping.keys;
  const keys = typeof nested === 'object' && nested !== null ? nested : mapping;
  return pickKeys(file, keys as Record<string, unknown>, tenantIds);
}

/** Checks that each tenant has a non-empty string key. */
export function pickKeys(
  source: string,
  keys: Record<string, unknown>,
  tenantIds: readonly string[],
): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const tenantId of tenantIds) {
    const key = keys[tenantId];
    if (typeof key !== 'string' || key.length === 0) {
      throw new TenantKeysError(source, `missing API key for tenant "${tenantId}"`);
    }
    picked[tenantId] = key;
  }
  return picked;
}
