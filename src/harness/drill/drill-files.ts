import { relative } from 'node:path';

import { DEFAULT_PRICES_PATH, readPriceTableFile } from '../../platform/cost/load-price-table.js';
import { DEFAULT_TENANTS_PATH, readTenantsFile } from '../../platform/tenants/index.js';
import type { TenantRegistry } from '../../platform/tenants/registry.js';
import type { Tenant } from '../../platform/tenants/tenant.js';
import { admitDemoKeys } from '../load/tenant-admission.js';
import { type PlatformFilesRecord, platformFilesRecord } from '../report/platform-files.js';
import type { ScenarioSpec } from '../scenario/types.js';
import type { DrillSpec } from './spec.js';

/** Files a drill's platform reads at start; each path is relative to the working folder. */
export interface DrillFilePaths {
  /** @defaultValue fixtures/tenants.yaml of the checkout */
  tenantsPath?: string;
  /** @defaultValue fixtures/prices.yaml of the checkout */
  pricesPath?: string;
}

/** The tenants file and price table of a drill, read and checked before its platform starts. */
export interface DrillFiles {
  registry: TenantRegistry;
  /** Entry of the tenants file that admits the demo key of each tenant the drill sends as. */
  senders: Map<string, Tenant>;
  /** Paths and hashes of both files, as the report's environment records them. */
  record: PlatformFilesRecord;
}

/**
 * Returns the tenants a drill sends as: those of its main load, then its burst tenants, each
 * once.
 */
export function drillSenders(spec: DrillSpec, scenario: ScenarioSpec): string[] {
  const senders = scenario.tenants.map((share) => share.tenantId);
  for (const step of spec.faults) {
    if (step.kind === 'tenant-burst') senders.push(step.tenant);
  }
  return [...new Set(senders)];
}

/**
 * Reads the tenants file and the price table of a drill, checks that the tenants file admits
 * the demo key of every tenant the drill sends as, and records both files. Call it before the
 * platform starts, so a bad file fails at once and an edit during the run cannot change the
 * record.
 * @throws TenantConfigError when the tenants file is invalid, TenantKeysError when the demo
 *   keys lack a tenant, UnadmittedTenantsError naming the tenants the file does not admit, and
 *   PriceTableError when the price table cannot be read or is invalid.
 */
export async function readDrillFiles(
  spec: DrillSpec,
  scenario: ScenarioSpec,
  paths: DrillFilePaths,
): Promise<DrillFiles> {
  // The tenants file is read once, so the recorded hash is that of the bytes parsed here.
  const tenantsPath = paths.tenantsPath ?? DEFAULT_TENANTS_PATH;
  const pricesPath = paths.pricesPath ?? DEFAULT_PRICES_PATH;
  const { registry, bytes } = await readTenantsFile(tenantsPath);
  const tenantsFile = paths.tenantsPath ?? relative(process.cwd(), DEFAULT_TENANTS_PATH);
  const senders = await admitDemoKeys(registry, tenantsFile, drillSenders(spec, scenario), {
    kind: 'drill',
    name: spec.name,
  });
  const prices = await readPriceTableFile(pricesPath);
  const record = platformFilesRecord(
    { path: pricesPath, bytes: prices.bytes, effectiveDate: prices.table.effectiveDate },
    { path: tenantsPath, bytes },
  );
  return { registry, senders, record };
}
