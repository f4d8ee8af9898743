import { ScenarioNotFoundError } from './errors.js';
import type { ScenarioSpec } from './types.js';
import { validateScenario } from './validate.js';

/** Looks a scenario up by name and validates it. @throws ScenarioNotFoundError */
export function findScenario(
  registry: Readonly<Record<string, ScenarioSpec>>,
  name: string,
): ScenarioSpec {
  // Object.hasOwn, so that a name such as `toString` is not read from the prototype.
  const spec = Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (spec === undefined) throw new ScenarioNotFoundError(name, Object.keys(registry).sort());
  return validateScenario(spec);
}
