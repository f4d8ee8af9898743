import { DrillSpecError } from './errors.js';
import type { DrillSpec } from './spec.js';

/** Names a drill spec may refer to on the platform it runs against. */
export interface DrillTargets {
  /** Providers of the catalog; the platform creates one proxy per provider, of the same name. */
  providers: readonly string[];
  /** Tenant ids of the tenants file, such as `fixtures/tenants.yaml`. */
  tenants: readonly string[];
  /** Path of the tenants file, named in messages. */
  tenantsFile: string;
}

function unknownName(
  field: string,
  value: string,
  kind: string,
  known: readonly string[],
  fix: string,
): DrillSpecError {
  return new DrillSpecError(
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
  const providerFix = 'use one of them, or add a provider profile to fixtures/providers';
  spec.faults.forEach((step, index) => {
    const at = `faults[${index}]`;
    if (step.kind === 'provider-fault') {
      if (!targets.providers.includes(step.provider)) {
        throw unknownName(
          `${at}.provider`,
          step.provider,
          'provider',
          targets.providers,
          providerFix,
        );
      }
      const fallback = step.failover?.fallback;
      if (fallback !== undefined && !targets.providers.includes(fallback)) {
        throw unknownName(
          `${at}.failover.fallback`,
          fallback,
          'provider',
          targets.providers,
          providerFix,
        );
      }
    } else if (step.kind === 'toxic') {
      if (!targets.providers.includes(step.proxy)) {
        throw unknownName(
          `${at}.proxy`,
          step.proxy,
          'proxy',
          targets.providers,
          'the platform creates one proxy per provider, named after it, so use one of them',
        );
      }
    } else if (!targets.tenants.includes(step.tenant)) {
      throw unknownName(
        `${at}.tenant`,
        step.tenant,
        'tenant',
        targets.tenants,
        `use one of them, or add the tenant to ${targets.tenantsFile}`,
      );
    }
  });
}
