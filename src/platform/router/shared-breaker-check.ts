import type { ProviderCatalog } from './catalog.js';
import { candidateKey, routeCandidates } from './candidate-order.js';
import type { PolicyProblem } from './policy-errors.js';
import type { BreakerPolicy, Policy } from './policy-types.js';

/** Every breaker setting, in the order of policies/schema.json. Typed so a new field must be added. */
const FIELD_ORDER: Record<keyof BreakerPolicy, number> = {
  failureThreshold: 0,
  minimumRequests: 1,
  windowMs: 2,
  cooldownMs: 3,
  halfOpenMaxProbes: 4,
};
const BREAKER_FIELDS = Object.keys(FIELD_ORDER) as (keyof BreakerPolicy)[];

/** Routes whose breaker one route must match, and the provider/models it shares with them. */
interface Conflict {
  others: Set<string>;
  shared: Set<string>;
}

/**
 * Reports routes whose breaker settings differ from those of another route that calls one of
 * the same provider/models, its fallback routes' candidates included. The router keeps one
 * breaker per provider/model and builds it from the settings of the first route to call it,
 * so the settings in force would depend on traffic order. The settings that most routes of
 * the policy use are taken as intended, or the first caller's on a tie. Each route that
 * differs from them is reported at its first differing field, which is where an override
 * such as `{ <<: *breaker, cooldownMs: 5000 }` sits.
 */
export function checkSharedBreakers(policy: Policy, catalog: ProviderCatalog): PolicyProblem[] {
  const names = Object.keys(policy.routes);
  const settings = new Map(names.map((name) => [name, settingsKey(policy, name)]));
  const uses = new Map<string, number>();
  for (const value of settings.values()) {
    uses.set(value, (uses.get(value) ?? 0) + 1);
  }
  const usesOf = (name: string): number => uses.get(settings.get(name) ?? '') ?? 0;
  const conflicts = new Map<string, Map<string, Conflict>>();
  for (const [key, callers] of callersByCandidate(policy, catalog)) {
    const chosen = callers.reduce((best, name) => (usesOf(name) > usesOf(best) ? name : best));
    const intended = settings.get(chosen) ?? '';
    const agreeing = callers.filter((name) => settings.get(name) === intended);
    for (const name of callers.filter((caller) => settings.get(caller) !== intended)) {
      const byIntended = conflicts.get(name) ?? new Map<string, Conflict>();
      conflicts.set(name, byIntended);
      const conflict = byIntended.get(intended) ?? { others: new Set(), shared: new Set() };
      byIntended.set(intended, conflict);
      conflict.shared.add(key);
      for (const other of agreeing) {
        conflict.others.add(other);
      }
    }
  }
  return names.flatMap((name) =>
    [...(conflicts.get(name)?.values() ?? [])].map((conflict) =>
      conflictProblem(policy, name, conflict),
    ),
  );
}

/** Returns the routes that call each provider/model, in policy order. */
function callersByCandidate(policy: Policy, catalog: ProviderCatalog): Map<string, string[]> {
  const callers = new Map<string, string[]>();
  for (const name of Object.keys(policy.routes)) {
    // The router calls a fallback route's candidates with the calling route's breaker settings.
    for (const candidate of routeCandidates(policy, name, catalog).flat()) {
      const key = candidateKey(candidate);
      const routes = callers.get(key) ?? [];
      callers.set(key, routes);
      if (!routes.includes(name)) {
        routes.push(name);
      }
    }
  }
  return callers;
}

function settingsKey(policy: Policy, name: string): string {
  const breaker = policy.routes[name]?.breaker;
  return breaker === undefined ? '' : BREAKER_FIELDS.map((field) => breaker[field]).join(',');
}

function conflictProblem(policy: Policy, name: string, conflict: Conflict): PolicyProblem {
  const others = [...conflict.others];
  const own = policy.routes[name]?.breaker as BreakerPolicy;
  const intended = policy.routes[others[0] as string]?.breaker as BreakerPolicy;
  const fields = BREAKER_FIELDS.filter((field) => own[field] !== intended[field]);
  const single = others.length === 1;
  const routes = `${single ? 'route' : 'routes'} ${others.join(', ')}`;
  const shared = [...conflict.shared].join(', ');
  const differences = fields
    .map((field) => `${field} is ${own[field]} here and ${intended[field]} there`)
    .join(', ');
  const fix = fields.map((field) => `${field} to ${intended[field]}`).join(' and ');
  const message = `breaker settings differ from those of ${routes}, which ${single ? 'shares' : 'share'} ${shared} with this route: ${differences}; the router keeps one breaker per provider/model and builds it from the settings of the first route that calls it, so set ${fix} here, or change ${routes} to match`;
  // The two routes' settings differ, so at least one field does.
  return { path: `/routes/${name}/breaker/${fields[0] as string}`, message };
}
