import type { ProviderCatalog } from '../../platform/router/catalog.js';
import { routeCandidates } from '../../platform/router/candidate-order.js';
import type { Policy } from '../../platform/router/policy-types.js';
import type { DrillSpec } from './spec.js';

/** Returns the providers the router may call for a task of `route`, fallback routes included. */
function reachableProviders(policy: Policy, route: string, catalog: ProviderCatalog): Set<string> {
  return new Set(
    routeCandidates(policy, route, catalog)
      .flat()
      .map((candidate) => candidate.provider),
  );
}

/**
 * Lists, as sentences, the routes of the drill's load that call a provider the spec takes
 * down but cannot reach the fallback that the spec expects them to fail over to. Such a
 * route has no provider left while the fault lasts, so the drill fails, and a caller can
 * say why before the run.
 */
export function failoverGaps(
  spec: DrillSpec,
  routes: readonly string[],
  policy: Policy,
  catalog: ProviderCatalog,
): string[] {
  const gaps: string[] = [];
  for (const step of spec.faults) {
    if (step.kind !== 'provider-fault' || step.failover === undefined) continue;
    const { fallback } = step.failover;
    for (const route of routes) {
      const providers = reachableProviders(policy, route, catalog);
      if (!providers.has(step.provider) || providers.has(fallback)) continue;
      gaps.push(
        `route ${route} of the policy calls ${step.provider} but has no ${fallback} candidate, ` +
          `directly or through fallbackRoute, so it has no provider left while fault ${step.id} ` +
          `takes ${step.provider} down; add ${fallback} to its candidates if it should fail over`,
      );
    }
  }
  return gaps;
}
