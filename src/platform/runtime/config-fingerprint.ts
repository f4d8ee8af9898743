import { createHash } from 'node:crypto';

import { canonicalJson } from '../canonical-json.js';
import type { PriceTableData } from '../cost/price-table.js';
import { policyHash } from '../router/load-policy.js';
import type { Policy } from '../router/policy-types.js';
import type { Tenant } from '../tenants/tenant.js';

/**
 * Hashes of the tenants, route policy and price table a platform process loaded, with the
 * files it read them from, and the settings that every process on a key prefix must share.
 * The hashes cover the loaded content, so comments, key order and YAML anchors do not
 * change them. The tenants hold API key hashes only, never a key.
 */
export interface ConfigFingerprint {
  tenantsFile: string;
  /** sha256 hex digest of the loaded tenants as canonical JSON, in id order. */
  tenantsSha256: string;
  policyFile: string;
  /** sha256 hex digest of the loaded policy as canonical JSON, as `policyHash` returns it. */
  policySha256: string;
  /** Undefined in the entry of a process of a version that did not record it. */
  pricesFile?: string;
  /** sha256 hex digest of the loaded price table as canonical JSON. */
  pricesSha256?: string;
  /**
   * Values of the shared settings, by the command-line option that sets them, or by the
   * `startPlatform` option where no command-line option exists.
   */
  settings?: Record<string, string>;
  /**
   * Async tasks the process runs at once, which the running caps of other processes on the
   * prefix count. Not compared: processes may differ in size.
   */
  workerSlots?: number;
}

/** Settings of one process that the others on its key prefix must share. */
export interface SharedSettings {
  taskRetentionMs: number;
  stallIntervalMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxQueueDepth: number;
  maxOldestAgeMs: number;
  watermarks: { batch: number; standard: number };
}

/** Hex digits of a hash that messages show, as the drill's `[policy]` line does. */
const SHORT_HASH_DIGITS = 12;

/** Builds the fingerprint of the files loaded, the settings and the slots of one process. */
export function configFingerprint(
  tenants: { file: string; tenants: readonly Tenant[] },
  policy: { file: string; policy: Policy },
  prices: { file: string; data: PriceTableData },
  settings: SharedSettings,
  workerSlots: number,
): ConfigFingerprint {
  const byId = [...tenants.tenants].sort((a, b) => compareIds(a.id, b.id));
  return {
    tenantsFile: tenants.file,
    tenantsSha256: sha256(canonicalJson(byId)),
    policyFile: policy.file,
    policySha256: policyHash(policy.policy),
    pricesFile: prices.file,
    pricesSha256: sha256(canonicalJson(prices.data)),
    settings: settingValues(settings),
    workerSlots,
  };
}

/** Names each setting as the operator sets it, so a warning's fix names the option. */
function settingValues(settings: SharedSettings): Record<string, string> {
  return {
    '--task-retention-ms': String(settings.taskRetentionMs),
    '--stall-interval-ms': String(settings.stallIntervalMs),
    '--max-queue-depth': String(settings.maxQueueDepth),
    '--max-queue-age-ms': String(settings.maxOldestAgeMs),
    '--shed-watermarks': `${settings.watermarks.batch},${settings.watermarks.standard}`,
    'queue.maxAttempts': String(settings.maxAttempts),
    'queue.backoffBaseMs': String(settings.backoffBaseMs),
    'queue.backoffMaxMs': String(settings.backoffMaxMs),
  };
}

/** Effect of each setting, as a mismatch warning names it. */
const SETTING_EFFECTS: Readonly<Record<string, string>> = {
  '--task-retention-ms': 'how long task and cost records stay',
  '--stall-interval-ms': 'when a stalled task returns to the queue',
  '--max-queue-depth': 'load shedding',
  '--max-queue-age-ms': 'load shedding',
  '--shed-watermarks': 'load shedding',
  'queue.maxAttempts': 'retries',
  'queue.backoffBaseMs': 'retries',
  'queue.backoffMaxMs': 'retries',
};

/** Differences of two fingerprints; a part that either one lacks counts as the same. */
interface ConfigDifference {
  tenants: boolean;
  policy: boolean;
  prices: boolean;
  /** Settings that both record with different values, in the order `own` lists them. */
  settings: string[];
}

function differenceOf(own: ConfigFingerprint, other: ConfigFingerprint): ConfigDifference {
  const otherSettings = other.settings ?? {};
  return {
    tenants: own.tenantsSha256 !== other.tenantsSha256,
    policy: own.policySha256 !== other.policySha256,
    prices:
      own.pricesSha256 !== undefined &&
      other.pricesSha256 !== undefined &&
      own.pricesSha256 !== other.pricesSha256,
    settings: Object.entries(own.settings ?? {})
      .filter(([name, value]) => name in otherSettings && otherSettings[name] !== value)
      .map(([name]) => name),
  };
}

/**
 * True when both fingerprints have the same hashes and settings, whatever the files. A
 * process of an earlier version records no price table or settings, so only the parts
 * both record are compared.
 */
export function sameConfig(a: ConfigFingerprint, b: ConfigFingerprint): boolean {
  const difference = differenceOf(a, b);
  return (
    !difference.tenants &&
    !difference.policy &&
    !difference.prices &&
    difference.settings.length === 0
  );
}

/**
 * Returns the warning for another platform process on the key prefix whose config differs
 * from this process's, naming both hashes or values of what differs and the fix.
 */
export function configMismatchMessage(
  keyPrefix: string,
  own: ConfigFingerprint,
  otherProcess: string,
  other: ConfigFingerprint,
): string {
  const difference = differenceOf(own, other);
  const parts: string[] = [];
  const effects: string[] = [];
  const fixes: string[] = [];
  if (difference.tenants) {
    parts.push(
      `tenants ${other.tenantsFile} content_sha256=${short(other.tenantsSha256)} where this process ` +
        `has ${own.tenantsFile} content_sha256=${short(own.tenantsSha256)}`,
    );
    effects.push('limits such as maxRunning');
    fixes.push('--tenants file');
  }
  if (difference.policy) {
    parts.push(
      `route policy ${other.policyFile} content_sha256=${short(other.policySha256)} where this ` +
        `process has ${own.policyFile} content_sha256=${short(own.policySha256)}`,
    );
    effects.push('routes');
    fixes.push('--policy file');
  }
  if (difference.prices) {
    parts.push(
      `price table ${other.pricesFile} content_sha256=${short(other.pricesSha256 ?? '')} where ` +
        `this process has ${own.pricesFile} content_sha256=${short(own.pricesSha256 ?? '')}`,
    );
    effects.push('task costs and budget charges');
    fixes.push(`price table (this process read ${own.pricesFile})`);
  }
  if (difference.settings.length > 0) {
    const values = (settings: Record<string, string> | undefined) =>
      listed(difference.settings.map((name) => `${name}=${settings?.[name]}`));
    parts.push(`${values(other.settings)} where this process has ${values(own.settings)}`);
    effects.push(...new Set(difference.settings.map((name) => SETTING_EFFECTS[name] ?? name)));
    fixes.push(...difference.settings);
  }
  return (
    `platform process ${otherProcess} on key prefix ${keyPrefix} runs with ${parts.join(', and ')}, ` +
    `so ${listed(effects)} can depend on which process takes a request or runs a task; ` +
    `restart every process on the prefix with the same ${listed(fixes)}`
  );
}

/** Joins items as prose: `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** Orders ids by UTF-16 code units, the same on every host, unlike `localeCompare`. */
function compareIds(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function short(hash: string): string {
  return hash.slice(0, SHORT_HASH_DIGITS);
}
