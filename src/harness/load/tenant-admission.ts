import { relative } from 'node:path';

import { DEFAULT_DEMO_KEYS_PATH } from '../../platform/tenants/demo-keys.js';
import { DEFAULT_TENANTS_PATH } from '../../platform/tenants/load-tenants.js';
import type { TenantRegistry } from '../../platform/tenants/registry.js';
import type { Tenant } from '../../platform/tenants/tenant.js';
import type { ScenarioSpec } from '../scenario/types.js';
import { loadTenantKeys } from './keys.js';

/** Sender of a run's requests as messages name it: a load scenario or a drill. */
export interface TenantSender {
  kind: 'scenario' | 'drill';
  name: string;
}

/** Files that an {@link UnadmittedTenantsError} names besides the tenants file. */
export interface AdmissionFiles {
  /** Demo keys file that the load engine sends with, such as `fixtures/demo-keys.yaml`. */
  keysFile: string;
  /** Shipped tenants file, whose entries admit the demo keys. */
  defaultTenantsFile: string;
}

/**
 * Raised before a load or a drill when the platform's tenants file has no entry for the API
 * key of a tenant the run sends as, so every request of that tenant would get 401.
 */
export class UnadmittedTenantsError extends Error {
  readonly code = 'TENANTS_FILE_REJECTS_KEYS';
  override readonly name = 'UnadmittedTenantsError';

  constructor(
    readonly tenantsFile: string,
    readonly tenantIds: readonly string[],
    context: AdmissionFiles & { sender: TenantSender },
  ) {
    const tenants = tenantIds.join(', ');
    const them = tenantIds.length === 1 ? 'its entry' : 'their entries';
    const { kind, name } = context.sender;
    super(
      `tenants file ${tenantsFile} admits no API key of ${tenantIds.length === 1 ? 'tenant' : 'tenants'} ` +
        `${tenants}, which ${kind} ${name} sends as with the keys in ` +
        `${context.keysFile}, so those requests would get 401; copy ${them} from ` +
        `${context.defaultTenantsFile} into ${tenantsFile}, keeping keySha256, the sha256 of ` +
        `the key, or pick a ${kind} that sends only as tenants of the file`,
    );
  }
}

export function isUnadmittedTenantsError(error: unknown): error is UnadmittedTenantsError {
  return error instanceof UnadmittedTenantsError;
}

/**
 * Returns, for each tenant of `keys`, the entry of `registry` that admits its API key.
 * @throws {@link UnadmittedTenantsError} naming every tenant whose key no entry admits.
 */
export function admittingTenants(
  registry: TenantRegistry,
  keys: Readonly<Record<string, string>>,
  tenantsFile: string,
  context: AdmissionFiles & { sender: TenantSender },
): Map<string, Tenant> {
  const missing = unadmittedTenants(registry, keys);
  if (missing.length > 0) throw new UnadmittedTenantsError(tenantsFile, missing, context);
  const admitting = new Map<string, Tenant>();
  for (const [tenantId, key] of Object.entries(keys)) {
    const tenant = registry.authenticate(key);
    if (tenant !== undefined) admitting.set(tenantId, tenant);
  }
  return admitting;
}

/**
 * Reads the demo keys of `tenantIds` from fixtures/demo-keys.yaml, which the load engine sends
 * with, and returns the entry of `registry` that admits each. Messages name the shipped files
 * relative to the working folder.
 * @throws TenantKeysError when the demo keys lack a tenant, or {@link UnadmittedTenantsError}
 *   naming the tenants whose key `registry` does not admit.
 */
export async function admitDemoKeys(
  registry: TenantRegistry,
  tenantsFile: string,
  tenantIds: readonly string[],
  sender: TenantSender,
): Promise<Map<string, Tenant>> {
  const keys = await loadTenantKeys(DEFAULT_DEMO_KEYS_PATH, tenantIds);
  return admittingTenants(registry, keys, tenantsFile, {
    sender,
    keysFile: relative(process.cwd(), DEFAULT_DEMO_KEYS_PATH),
    defaultTenantsFile: relative(process.cwd(), DEFAULT_TENANTS_PATH),
  });
}

/**
 * Returns the tenants, in the order of `keys`, whose API key `registry` does not
 * authenticate. A key admitted under another tenant id counts as admitted.
 */
export function unadmittedTenants(
  registry: TenantRegistry,
  keys: Readonly<Record<string, string>>,
): string[] {
  return Object.entries(keys)
    .filter(([, key]) => registry.authenticate(key) === undefined)
    .map(([tenantId]) => tenantId);
}

/**
 * Returns the tenants that send async tasks in the scenario: those with a weight above 0
 * whose own modes, or else the scenario's, give async a weight above 0. A tenant's
 * `maxRunning` caps only its async tasks, so only these tenants can meet it.
 */
export function asyncSendingTenants(scenario: ScenarioSpec): Set<string> {
  const tenants = new Set<string>();
  for (const share of scenario.tenants) {
    const modes = share.modes ?? scenario.modes;
    if (share.weight > 0 && modes.async > 0) tenants.add(share.tenantId);
  }
  return tenants;
}
