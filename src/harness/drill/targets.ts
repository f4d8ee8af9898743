import { DrillSpecError } from './errors.js';
import type { DrillSpec } from './spec.js';

/** Names a drill spec may refer to on the platform it runs against. */
export interface DrillTargets {
  /** Providers of the catalog; the platform creates one proxy per provider, of the same name. */
  providers: readonly string[];
  /** Tenants the drill can send as: those with a key in the demo keys file. */
  tenants: readonly string[];
  /** Path of the tenants file, named in messages. */
  tenantsFile: string;
  /** Path of the demo keys file, such as `fixtures/demo-keys.yaml`, named in messages. */
  keysFile: string;
}

/** Throws a spec error for `field` unless `known` lists `value`. */
function requireKnown(
  field: string,
  value: string,
  kind: string,
  known: readonly string[],
  fix: string,
): void {
  if (known.includes(value)) return;
  throw new DrillSpecError(
    field,
    `is ${value}, which is not a known ${kind}; known: ${known.join(', ')}; ${fix}`,
  );
}

/**
 * Checks that every provider, proxy, fallback and burst tenant a validated spec names
 * exists on the platform, so a misspelt name fails before the platform starts rather than
 * as a failed fault step halfway through the drill.
 * @throws {@link DrillSpecError} naming the field, the value and the known names.
 */
export function checkDrillTargets(spec: DrillSpec, targets: DrillTargets): void {
  const { providers, tenants } = targets;
  const providerFix = 'use one of them, or add a provider profile to fixtures/providers';
  const proxyFix =
    'the platform creates one proxy per provider, named after it, so use one of them';
  const tenantFix =
    `use one of them, or add its API key to ${targets.keysFile} and the tenant to ` +
    targets.tenantsFile;
  spec.faults.forEach((step, index) => {
    const at = `faults[${index}]`;
    if (step.kind === 'provider-fault') {
      requireKnown(`${at}.provider`, step.provider, 'provider', providers, providerFix);
      const fallback = step.failover?.fallback;
      if (fallback !== undefined) {
        requireKnown(`${at}.failover.fallback`, fallback, 'provider', providers, providerFix);
      }
    } else if (step.kind === 'toxic') {
      requireKnown(`${at}.proxy`, step.proxy, 'proxy', providers, proxyFix);
    } else if (step.kind === 'tenant-burst') {
      requireKnown(`${at}.tenant`, step.tenant, 'tenant', tenants, tenantFix);
    }
  });
}
