import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

import { packagePath } from '../../package-path.js';
import { DEFAULT_PRICES_PATH, readPriceTableFile } from '../../platform/cost/load-price-table.js';
import { DEFAULT_TENANTS_PATH } from '../../platform/tenants/index.js';
import type { Environment } from './types.js';
import { sha256Hex } from '../../platform/runtime/loaded-files.js';

/** The price table and tenants file fields of a report's environment, all present. */
export type PlatformFilesRecord = Required<
  Pick<
    Environment,
    'pricesPath' | 'pricesHash' | 'pricesEffectiveDate' | 'tenantsPath' | 'tenantsHash'
  >
>;

/** Files a platform reads at start. */
export interface PlatformFilePaths {
  /** @defaultValue DEFAULT_PRICES_PATH, fixtures/prices.yaml of the checkout */
  prices?: string;
  /** @defaultValue DEFAULT_TENANTS_PATH, fixtures/tenants.yaml of the checkout */
  tenants?: string;
}

/**
 * Reads the price table and the tenants file and returns their paths, the sha256 of their
 * bytes and the price table's effective date, as a drill report's environment records them.
 * Call it before the platform starts, so an edit during the run cannot change the record.
 * @throws PriceTableError when the price table cannot be read or is invalid, and the error
 *   of `readFile` when the tenants file cannot be read.
 */
export async function recordPlatformFiles(
  paths: PlatformFilePaths = {},
): Promise<PlatformFilesRecord> {
  const pricesFile = paths.prices ?? DEFAULT_PRICES_PATH;
  const tenantsFile = paths.tenants ?? DEFAULT_TENANTS_PATH;
  const [prices, tenants] = await Promise.all([
    readPriceTableFile(pricesFile),
    readFile(tenantsFile),
  ]);
  return platformFilesRecord(
    { path: pricesFile, bytes: prices.bytes, effectiveDate: prices.table.effectiveDate },
    { path: tenantsFile, bytes: tenants },
  );
}

/** A file as read: its path as given and the bytes that were parsed. */
export interface FileBytes {
  path: string;
  bytes: Buffer;
}

/**
 * Returns the record of a price table and a tenants file that the caller has already read,
 * hashing the bytes it parsed, so an edit after that read cannot change the record.
 */
export function platformFilesRecord(
  prices: FileBytes & { effectiveDate: string },
  tenants: FileBytes,
): PlatformFilesRecord {
  return {
    pricesPath: checkoutPath(prices.path),
    pricesHash: sha256Hex(prices.bytes),
    pricesEffectiveDate: prices.effectiveDate,
    tenantsPath: checkoutPath(tenants.path),
    tenantsHash: sha256Hex(tenants.bytes),
  };
}

/**
 * Returns `path` relative to the scalegate checkout when it lies inside it, such as
 * `fixtures/prices.yaml`, so reports of two checkouts name one file alike. Other paths
 * are returned absolute.
 */
function checkoutPath(path: string): string {
  const absolute = resolve(path);
  const inCheckout = relative(packagePath(''), absolute);
  const outside = inCheckout === '..' || inCheckout.startsWith(`..${sep}`);
  if (inCheckout === '' || outside || isAbsolute(inCheckout)) return absolute;
  return inCheckout;
}
