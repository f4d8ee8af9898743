import { qualityTierOf, type ProviderCatalog } from './catalog.js';
import type { Candidate, Policy, RoutePolicy } from './policy-types.js';

/** Returns `provider/model`, the key of breakers and attempt records. */
export function candidateKey(candidate: { provider: string; model: string }): string {
  return `${candidate.provider}/${candidate.model}`;
}

/**
 * Lists `routeName`, then the routes its `fallbackRoute` links lead to in turn, until a route
 * repeats or the chain ends.
 */
export function fallbackChain(policy: Policy, routeName: string): string[] {
  const chain: string[] = [];
  let name: string | undefined = routeName;
  while (name !== undefined && !chain.includes(name)) {
    chain.push(name);
    name = policy.routes[name]?.fallbackRoute;
  }
  return chain;
}

/**
 * Lists a route's candidates, then those of each fallback route in turn, one group
 * per route of `fallbackChain`. A candidate already listed is not repeated, and any below
 * the first route's quality floor is dropped, so a group may be empty.
 */
export function routeCandidates(
  policy: Policy,
  routeName: string,
  catalog: ProviderCatalog,
): Candidate[][] {
  const floor = policy.routes[routeName]?.qualityFloor ?? 0;
  const seenCandidates = new Set<string>();
  const groups: Candidate[][] = [];
  for (const name of fallbackChain(policy, routeName)) {
    const route: RoutePolicy | undefined = policy.routes[name];
    const group: Candidate[] = [];
    for (const candidate of route?.candidates ?? []) {
      const tier = qualityTierOf(catalog, candidate.provider, candidate.model);
      const key = candidateKey(candidate);
      if (tier !== undefined && tier >= floor && !seenCandidates.has(key)) {
        seenCandidates.add(key);
        group.push(candidate);
      }
    }
    groups.push(group);
  }
  return groups;
}

/**
 * Orders candidates for one task. The first group with an available candidate, normally
 * the route's own, supplies the first call, drawn by weight among its available weighted
 * candidates. When it has none, policy order is kept. The rest follow in policy order, so a
 * fallback route's candidates get traffic only when none of the route's own is available.
 */
export function orderForTask(
  groups: readonly Candidate[][],
  isAvailable: (candidate: Candidate) => boolean,
  random: () => number,
): Candidate[] {
  const candidates = groups.flat();
  const group = groups.find((members) => members.some(isAvailable));
  const weighted = (group ?? []).filter(
    (candidate) => candidate.weight > 0 && isAvailable(candidate),
  );
  const total = weighted.reduce((sum, candidate) => sum + candidate.weight, 0);
  if (total <= 0) {
    return candidates;
  }
  const first = pickByWeight(weighted, random() * total);
  return first === undefined ? candidates : [first, ...candidates.filter((c) => c !== first)];
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
