import { createHash } from 'node:crypto';

import { canonicalJson } from '../canonical-json.js';
import { policyHash } from '../router/load-policy.js';
import type { Policy } from '../router/policy-types.js';
import type { Tenant } from '../tenants/tenant.js';

/**
 * Hashes of the tenants and route policy a platform process loaded, with the files it read
 * them from. The hashes cover the loaded content, so comments, key order and YAML anchors
 * do not change them. The tenants hold API key hashes only, never a key.
 */
export interface ConfigFingerprint {
  tenantsFile: string;
  /** sha256 hex digest of the loaded tenants as canonical JSON, in id order. */
  tenantsSha256: string;
  policyFile: string;
  /** sha256 hex digest of the loaded policy as canonical JSON, as `policyHash` returns it. */
  policySha256: string;
}

/** Hex digits of a hash that messages show, as the drill's `[policy]` line does. */
const SHORT_HASH_DIGITS = 12;

/** Builds the fingerprint of the tenants and policy loaded from the files named. */
export function configFingerprint(
  tenants: { file: string; tenants: readonly Tenant[] },
  policy: { file: string; policy: Policy },
): ConfigFingerprint {
  const byId = [...tenants.tenants].sort((a, b) => compareIds(a.id, b.id));
  return {
    tenantsFile: tenants.file,
    tenantsSha256: createHash('sha256').update(canonicalJson(byId)).digest('hex'),
    policyFile: policy.file,
    policySha256: policyHash(policy.policy),
  };
}

/** True when both fingerprints have the same tenants and policy hashes, whatever the files. */
export function sameConfig(a: ConfigFingerprint, b: ConfigFingerprint): boolean {
  return a.tenantsSha256 === b.tenantsSha256 && a.policySha256 === b.policySha256;
}

/**
 * Returns the warning for another platform process on the key prefix whose config differs
 * from this process's, naming both hashes of what differs and the fix.
 */
export function configMismatchMessage(
  keyPrefix: string,
  own: ConfigFingerprint,
  otherProcess: string,
  other: ConfigFingerprint,
): string {
  const parts: string[] = [];
  if (own.tenantsSha256 !== other.tenantsSha256) {
    parts.push(
      `tenants ${other.tenantsFile} content_sha256=${short(other.tenantsSha256)} where this process ` +
        `has ${own.tenantsFile} content_sha256=${short(own.tenantsSha256)}`,
    );
  }
  if (own.policySha256 !== other.policySha256) {
    parts.push(
      `route policy ${other.policyFile} content_sha256=${short(other.policySha256)} where this ` +
        `process has ${own.policyFile} content_sha256=${short(own.policySha256)}`,
    );
  }
  return (
    `platform process ${otherProcess} on key prefix ${keyPrefix} runs with ${parts.join(', and ')}, ` +
    'so limits such as maxRunning, and routes, can depend on which process takes a request ' +
    'or runs a task; restart every process on the prefix with the same --tenants and ' +
    '--policy files'
  );
}

/** Orders ids by UTF-16 code units, the same on every host, unlike `localeCompare`. */
function compareIds(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

function short(hash: string): string {
  return hash.slice(0, SHORT_HASH_DIGITS);
}
