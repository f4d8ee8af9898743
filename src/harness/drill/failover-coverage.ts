import type { Policy } from '../../platform/router/policy-types.js';
import type { DrillSpec } from './spec.js';

/** Returns the providers a route may call: its candidates, then those of its fallbackRoute chain. */
function reachableProviders(policy: Policy, route: string): Set<string> {
  const providers = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined = route;
  while (current !== undefined && !seen.has(current)) {
    seen.add(current);
    const routePolicy: Policy['routes'][string] | undefined = policy.routes[current];
    for (const candidate of routePolicy?.candidates ?? []) providers.add(candidate.provider);
    current = routePolicy?.fallbackRoute;
  }
  return providers;
}

/**
 * Lists, as sentences, the routes of the drill's load that call a provider the spec takes
 * down but cannot reach the fallback that the spec expects them to fail over to. Such a
 * route has no provider left while the fault lasts, so the drill fails, and a caller can
 * say why before the run.
 */
export function failoverGaps(spec: DrillSpec, routes: readonly string[], policy: Policy): string[] {
  const gaps: string[] = [];
  for (const step of spec.faults) {
    if (step.kind !== 'provider-fault' || step.failover === undefined) continue;
    const { fallback } = step.failover;
    for (const route of routes) {
      const providers = reachableProviders(policy, route);
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
