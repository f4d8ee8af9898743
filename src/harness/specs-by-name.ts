/**
 * Returns specs keyed by their `name`, for the registries of `scenarios/index.ts` and
 * `chaos/index.ts`. An object literal keyed by name would let a later spec with a copied
 * name replace an earlier one without a word, so a repeated name raises instead.
 * @throws Error naming the repeated name, both specs' descriptions and `file`.
 */
export function specsByName<Spec extends { name: string; description: string }>(
  kind: 'scenario' | 'drill',
  file: string,
  specs: readonly Spec[],
): Readonly<Record<string, Spec>> {
  const registry: Record<string, Spec> = {};
  for (const spec of specs) {
    // Object.hasOwn, so that a name such as `constructor` is not read from the prototype.
    const earlier = Object.hasOwn(registry, spec.name) ? registry[spec.name] : undefined;
    if (earlier !== undefined) {
      throw new Error(
        `${file} lists two ${kind}s named ${spec.name}: ${JSON.stringify(earlier.description)} ` +
          `and ${JSON.stringify(spec.description)}; give each ${kind} its own name`,
      );
    }
    registry[spec.name] = spec;
  }
  return registry;
}
