import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { PROVIDER_ERROR_CLASSES } from '../../../src/platform/providers/errors.js';

interface SchemaObject {
  properties?: Record<string, { description?: string }>;
}

const schema = JSON.parse(
  readFileSync(new URL('../../../policies/schema.json', import.meta.url), 'utf8'),
) as SchemaObject & { $defs: Record<string, SchemaObject> };

/** Returns every property of the policy schema's objects, named `object.property`. */
function schemaFields(): { name: string; field: string; description: string | undefined }[] {
  const objects: [string, SchemaObject][] = [
    ['(root)', schema],
    ...Object.entries(schema.$defs).filter(([, value]) => value.properties !== undefined),
  ];
  return objects.flatMap(([object, value]) =>
    Object.entries(value.properties ?? {}).map(([field, property]) => ({
      name: `${object}.${field}`,
      field,
      description: property.description,
    })),
  );
}

/** Returns the README section that describes the route policy fields. */
function policySection(): string {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('### Route policy fields');
  assert.notEqual(start, -1, 'README.md has a "Route policy fields" section');
  const end = readme.indexOf('\n#', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe('route policy reference', () => {
  it('covers the root and the five objects of the schema', () => {
    const objects = new Set(schemaFields().map((entry) => entry.name.split('.')[0]));
    assert.deepEqual([...objects].sort(), [
      '(root)',
      'breaker',
      'candidate',
      'retryBudget',
      'route',
      'throttle',
    ]);
  });

  it('describes every schema field in the schema', () => {
    const missing = schemaFields().filter((entry) => !entry.description?.trim());
    assert.deepEqual(
      missing.map((entry) => entry.name),
      [],
    );
  });

  it('names every schema field in README', () => {
    const section = policySection();
    const missing = schemaFields().filter((entry) => !section.includes(`\`${entry.field}\``));
    assert.deepEqual(
      missing.map((entry) => entry.name),
      [],
    );
  });

  it('names every error class in README', () => {
    const section = policySection();
    const missing = PROVIDER_ERROR_CLASSES.filter((name) => !section.includes(`\`${name}\``));
    assert.deepEqual(missing, []);
  });

  it('lists the same error classes in the schema as the router', () => {
    const classes = (schema.$defs.errorClass as { enum?: string[] }).enum ?? [];
    assert.deepEqual([...classes].sort(), [...PROVIDER_ERROR_CLASSES].sort());
  });
});
