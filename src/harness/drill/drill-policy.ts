import { readFile } from 'node:fs/promises';

import type { ProviderCatalog } from '../../platform/router/catalog.js';
import { parsePolicyYaml } from '../../platform/router/load-policy.js';
import { type PolicyProblem, PolicyValidationError } from '../../platform/router/policy-errors.js';
import { locateProblems, parsePolicySource } from '../../platform/router/policy-source.js';
import { decodePolicyText } from '../../platform/router/policy-text.js';
import type { Policy } from '../../platform/router/policy-types.js';
import type { ScenarioSpec } from '../scenario/types.js';
import type { DrillSpec } from './spec.js';

/**
 * Loads the policy a drill runs with and checks that it has every route the drill's load
 * sends tasks to, so a policy that renamed or removed one fails before the platform starts.
 * @throws PolicyValidationError listing every problem of the file, or every missing route.
 */
export async function loadDrillPolicy(
  policyPath: string,
  catalog: ProviderCatalog,
  spec: Pick<DrillSpec, 'name' | 'scenario'>,
  scenario: Pick<ScenarioSpec, 'routes'>,
): Promise<Policy> {
  return parseDrillPolicy(await readFile(policyPath), policyPath, catalog, spec, scenario);
}

/**
 * Checks the policy bytes read from `policyPath` as {@link loadDrillPolicy} checks the file,
 * so a caller that hashes the bytes it read checks the same content.
 * @throws PolicyValidationError as {@link loadDrillPolicy} does.
 */
export function parseDrillPolicy(
  bytes: Buffer,
  policyPath: string,
  catalog: ProviderCatalog,
  spec: Pick<DrillSpec, 'name' | 'scenario'>,
  scenario: Pick<ScenarioSpec, 'routes'>,
): Policy {
  const text = decodePolicyText(bytes, policyPath);
  const policy = parsePolicyYaml(text, catalog, policyPath);
  const problems: PolicyProblem[] = [];
  const routes = Object.keys(policy.routes).join(', ');
  scenario.routes.forEach(({ route }, index) => {
    if (Object.hasOwn(policy.routes, route)) return;
    // A misspelt route in the scenario gives the same problem as a route the policy dropped.
    problems.push({
      path: `/routes/${route}`,
      message:
        `route ${route} not found; drill ${spec.name} sends its ${spec.scenario} load to it, ` +
        `so keep a route named ${route} in the policy, or set routes[${index}].route of ` +
        `scenario ${spec.scenario} to one of the policy's routes: ${routes}`,
    });
  });
  if (problems.length === 0) return policy;
  // Located at the routes map, where the missing route would go, as the loader locates its own.
  const source = parsePolicySource(text, policyPath);
  throw new PolicyValidationError(policyPath, locateProblems(problems, source));
}
