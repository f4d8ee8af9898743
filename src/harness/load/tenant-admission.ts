import type { TenantRegistry } from '../../platform/tenants/registry.js';
import type { ScenarioSpec } from '../scenario/types.js';

/**
 * Raised before a load when the platform's tenants file has no entry for the API key of a
 * tenant the scenario sends as, so every request of that tenant would get 401.
 */
export class UnadmittedTenantsError extends Error {
  readonly code = 'TENANTS_FILE_REJECTS_KEYS';
  override readonly name = 'UnadmittedTenantsError';

  constructor(
    readonly tenantsFile: string,
    readonly tenantIds: readonly string[],
    context: { scenario: string; keysFile: string; defaultTenantsFile: string },
  ) {
    const tenants = tenantIds.join(', ');
    const them = tenantIds.length === 1 ? 'its entry' : 'their entries';
    super(
      `tenants file ${tenantsFile} admits no API key of ${tenantIds.length === 1 ? 'tenant' : 'tenants'} ` +
        `${tenants}, which scenario ${context.scenario} sends as with the keys in ` +
        `${context.keysFile}, so those requests would get 401; copy ${them} from ` +
        `${context.defaultTenantsFile} into ${tenantsFile}, keeping keySha256, the sha256 of ` +
        'the key, or pick a scenario that sends only as tenants of the file',
    );
  }
}

export function isUnadmittedTenantsError(error: unknown): error is UnadmittedTenantsError {
  return error instanceof UnadmittedTenantsError;
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
