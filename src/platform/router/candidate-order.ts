import { qualityTierOf, type ProviderCatalog } from './catalog.js';
import type { Candidate, Policy, RoutePolicy } from './policy-types.js';

/** Returns `provider/model`, the key of breakers and attempt records. */
export function candidateKey(candidate: { provider: string; model: string }): string {
  return `${candidate.provider}/${candidate.model}`;
}

/**
 * Lists a route's candidates followed by those of its fallback routes, without
 * repeats, dropping any below the route's quality floor.
 */
export function routeCandidates(
  policy: Policy,
  routeName: string,
  catalog: ProviderCatalog,
): Candidate[] {
  const floor = policy.routes[routeName]?.qualityFloor ?? 0;
  const seenRoutes = new Set<string>();
  const result = new Map<string, Candidate>();
  let name: string | undefined = routeName;
  while (name !== undefined && !seenRoutes.has(name)) {
    seenRoutes.add(name);
    const route: RoutePolicy | undefined = policy.routes[name];
    for (const candidate of route?.candidates ?? []) {
      const tier = qualityTierOf(catalog, candidate.provider, candidate.model);
      if (tier !== undefined && tier >= floor && !result.has(candidateKey(candidate))) {
        result.set(candidateKey(candidate), candidate);
      }
    }
    name = route?.fallbackRoute;
  }
  return [...result.values()];
}

/**
 * Orders candidates for one task: the first is drawn by weight among the
 * available ones, the rest follow in policy order. With no weighted candidate
 * available, policy order is kept.
 */
export function orderForTask(
  candidates: Candidate[],
  isAvailable: (candidate: Candidate) => boolean,
  random: () => number,
): Candidate[] {
  const weighted = candidates.filter((candidate) => candidate.weight > 0 && isAvailable(candidate));
  const total = weighted.reduce((sum, candidate) => sum + candidate.weight, 0);
  if (total <= 0) {
    return [...candidates];
  }
  const first = pickByWeight(weighted, random() * total);
  return first === undefined ? [...candidates] : [first, ...candidates.filter((c) => c !== first)];
}

/** Returns the candidate whose cumulative weight range contains `point`. */
function pickByWeight(weighted: Candidate[], point: number): Candidate | undefined {
  let remaining = point;
  for (const candidate of weighted) {
    remaining -= candidate.weight;
    if (remaining < 0) {
      return candidate;
    }
  }
  return weighted[weighted.length - 1];
}
