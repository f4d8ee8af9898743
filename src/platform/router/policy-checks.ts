import { findProvider, type ProviderCatalog, qualityTierOf } from './catalog.js';
import { candidateKey } from './candidate-order.js';
import { checkSettingsTakeEffect } from './policy-effect-checks.js';
import type { PolicyProblem } from './policy-errors.js';
import type { Policy, RoutePolicy } from './policy-types.js';
import { checkSharedBreakers } from './shared-breaker-check.js';
import { uniqueSimilarName } from './similar-names.js';

/**
 * Returns every semantic problem of a schema-valid policy against the catalog.
 * `uncheckedRoutes` names routes left out of `policy` because they failed the
 * schema; a fallback to one of them is not reported as unknown.
 */
export function checkPolicy(
  policy: Policy,
  catalog: ProviderCatalog,
  uncheckedRoutes: ReadonlySet<string> = new Set(),
): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const [name, route] of Object.entries(policy.routes)) {
    problems.push(...checkCandidates(name, route, catalog));
    problems.push(...checkTimeouts(name, route));
    problems.push(...checkFallback(name, route, policy, uncheckedRoutes));
    problems.push(...checkFallbackAddsCandidates(name, route, policy));
    problems.push(...checkSettingsTakeEffect(name, route));
  }
  problems.push(...checkFallbackCycles(policy));
  problems.push(...checkSharedBreakers(policy, catalog));
  return problems;
}

function checkCandidates(
  name: string,
  route: RoutePolicy,
  catalog: ProviderCatalog,
): PolicyProblem[] {
  const unreachable = checkFloorReachable(name, route, catalog);
  // Every candidate is then below the floor, so the floor is the line to fix.
  const checkFloor = unreachable.length === 0;
  const problems: PolicyProblem[] = [...unreachable];
  const seen = new Map<string, number>();
  route.candidates.forEach((candidate, index) => {
    const path = `/routes/${name}/candidates/${index}`;
    const key = `${candidate.provider}/${candidate.model}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      const message = `duplicate candidate ${key} (also at index ${earlier}); remove one, or add their weights together`;
      problems.push({ path, message });
    }
    seen.set(key, earlier ?? index);
    problems.push(
      ...checkCatalogEntry(path, candidate.provider, candidate.model, route, catalog, checkFloor),
    );
  });
  if (route.candidates.every((candidate) => candidate.weight === 0)) {
    const message = 'every candidate has weight 0; give at least one a weight above 0';
    problems.push({ path: `/routes/${name}/candidates`, message });
  }
  return problems;
}

/** Reports a quality floor above the highest tier of any model in the catalog. */
function checkFloorReachable(
  name: string,
  route: RoutePolicy,
  catalog: ProviderCatalog,
): PolicyProblem[] {
  const models = catalogModels(catalog);
  const highest = Math.max(0, ...models.map((model) => model.tier));
  if (route.qualityFloor <= highest) {
    return [];
  }
  const best = models.filter((model) => model.tier === highest).map((model) => model.key);
  const message = `qualityFloor ${route.qualityFloor} is above the quality tier of every model in the provider catalog, whose highest is ${highest} (${best.join(', ')}); set qualityFloor to ${highest} or less`;
  return [{ path: `/routes/${name}/qualityFloor`, message }];
}

function catalogModels(catalog: ProviderCatalog): { key: string; tier: number }[] {
  return catalog.flatMap((provider) =>
    provider.models.map((model) => ({
      key: `${provider.name}/${model.name}`,
      tier: model.qualityTier,
    })),
  );
}

/**
 * Reports a provider or model missing from the catalog, and with `checkFloor` a model below
 * the route's quality floor.
 */
function checkCatalogEntry(
  path: string,
  provider: string,
  model: string,
  route: RoutePolicy,
  catalog: ProviderCatalog,
  checkFloor: boolean,
): PolicyProblem[] {
  const profile = findProvider(catalog, provider);
  if (profile === undefined) {
    const names = catalog.map((entry) => entry.name);
    const hint = didYouMean(provider, names);
    const message = `unknown provider "${provider}";${hint} known: ${names.join(', ')}`;
    return [{ path: `${path}/provider`, message }];
  }
  const tier = qualityTierOf(catalog, provider, model);
  if (tier === undefined) {
    const names = profile.models.map((entry) => entry.name);
    const hint = didYouMean(model, names);
    const message = `unknown model "${model}" for ${provider};${hint} its models: ${names.join(', ')}`;
    return [{ path: `${path}/model`, message }];
  }
  if (checkFloor && tier < route.qualityFloor) {
    const floor = route.qualityFloor;
    const fitting = catalogModels(catalog)
      .filter((entry) => entry.tier >= floor)
      .map((entry) => entry.key);
    const examples =
      fitting.length > 3 ? `${fitting.slice(0, 3).join(', ')}, ...` : fitting.join(', ');
    const message = `quality tier ${tier} of ${provider}/${model} is below qualityFloor ${floor}; pick a model of tier ${floor} or above (${examples}), or lower the floor`;
    return [{ path: `${path}/model`, message }];
  }
  return [];
}

/**
 * Reports a first-token or stall timeout at or above the route's deadline. The deadline
 * then ends the task no later than that timeout, so the timeout leaves no time to fail over.
 */
function checkTimeouts(name: string, route: RoutePolicy): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const field of ['firstTokenTimeoutMs', 'stallTimeoutMs'] as const) {
    if (route[field] >= route.deadlineMs) {
      const message = `${field} ${route[field]} is at or above deadlineMs ${route.deadlineMs}, so no time is left to fail over; set it below ${route.deadlineMs}`;
      problems.push({ path: `/routes/${name}/${field}`, message });
    }
  }
  return problems;
}

function checkFallback(
  name: string,
  route: RoutePolicy,
  policy: Policy,
  uncheckedRoutes: ReadonlySet<string>,
): PolicyProblem[] {
  if (route.fallbackRoute === undefined || uncheckedRoutes.has(route.fallbackRoute)) {
    return [];
  }
  const path = `/routes/${name}/fallbackRoute`;
  const fallback = routeOf(policy, route.fallbackRoute);
  if (fallback === undefined) {
    const known = Object.keys(policy.routes).join(', ');
    return [{ path, message: `unknown route "${route.fallbackRoute}"; routes: ${known}` }];
  }
  if (fallback.qualityFloor < route.qualityFloor) {
    const message = `route "${route.fallbackRoute}" has qualityFloor ${fallback.qualityFloor}, below this route's ${route.qualityFloor}; fall back to a route with a floor of ${route.qualityFloor} or above`;
    return [{ path, message }];
  }
  return [];
}

/**
 * Reports a fallback chain whose every candidate is already one of the route's. The router
 * lists each candidate once per route (routeCandidates), so such a fallback adds no call.
 * Chains with a cycle, an unknown route or a route that failed the schema are skipped,
 * because other checks report them or their candidates are unknown.
 */
function checkFallbackAddsCandidates(
  name: string,
  route: RoutePolicy,
  policy: Policy,
): PolicyProblem[] {
  const chain = followFallbacks(policy, name);
  const tail = chain[chain.length - 1] ?? name;
  const cycles = new Set(chain).size !== chain.length;
  const leavesPolicy = routeOf(policy, tail)?.fallbackRoute !== undefined;
  if (chain.length < 2 || cycles || leavesPolicy) {
    return [];
  }
  const own = new Set(route.candidates.map(candidateKey));
  const fallbacks = chain.slice(1);
  const added = fallbacks.flatMap((member) => routeOf(policy, member)?.candidates ?? []);
  if (added.some((candidate) => !own.has(candidateKey(candidate)))) {
    return [];
  }
  const keys = [...new Set(added.map(candidateKey))];
  const repeated =
    keys.length === 1
      ? `${keys[0]} is already a candidate`
      : `${keys.join(', ')} are already candidates`;
  const quoted = fallbacks.map((member) => `"${member}"`);
  const [subject, target] =
    quoted.length === 1
      ? [`fallback route ${quoted[0]} adds`, quoted[0]]
      : [`fallback routes ${quoted.join(' -> ')} add`, `one of ${quoted.join(', ')}`];
  const message = `${subject} no candidate, because ${repeated} of this route and the router lists each candidate once, so the fallback is never used; remove fallbackRoute, or give ${target} a candidate this route lacks`;
  return [{ path: `/routes/${name}/fallbackRoute`, message }];
}

/** Reports each fallback cycle once, at its first route in policy order. */
function checkFallbackCycles(policy: Policy): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const reported = new Set<string>();
  for (const start of Object.keys(policy.routes)) {
    const chain = followFallbacks(policy, start);
    if (chain.length < 2 || chain[0] !== chain[chain.length - 1]) {
      continue;
    }
    const members = chain.slice(0, -1);
    const key = [...members].sort().join(',');
    if (!reported.has(key)) {
      reported.add(key);
      const path = `/routes/${start}/fallbackRoute`;
      const message = `fallback cycle ${chain.join(' -> ')}; remove the fallbackRoute of one of these routes`;
      problems.push({ path, message });
    }
  }
  return problems;
}

/**
 * Returns the route named `name`. Only the policy's own keys count, so a fallback named
 * `constructor` or `toString` finds no member of Object.prototype.
 */
function routeOf(policy: Policy, name: string): RoutePolicy | undefined {
  return Object.hasOwn(policy.routes, name) ? policy.routes[name] : undefined;
}

/** Follows `fallbackRoute` links from `start` until a route repeats or the chain ends. */
function followFallbacks(policy: Policy, start: string): string[] {
  const chain = [start];
  let next = routeOf(policy, start)?.fallbackRoute;
  while (next !== undefined && routeOf(policy, next) !== undefined) {
    chain.push(next);
    if (chain.indexOf(next) !== chain.length - 1) {
      break;
    }
    next = routeOf(policy, next)?.fallbackRoute;
  }
  return chain;
}

/**
 * Returns ` did you mean "x"?` when exactly one of `names` is a likely misspelling of
 * `name`, such as a swapped letter or another letter case, else an empty string. Several
 * equally close names, as `provider-z` is to every `provider-` name, get no hint, because
 * the list that follows names them all.
 */
function didYouMean(name: string, names: readonly string[]): string {
  const similar = uniqueSimilarName(name, names);
  return similar === undefined ? '' : ` did you mean "${similar}"?`;
}
