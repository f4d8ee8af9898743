import assert from 'node:assert/strict';

import { DRILLS } from '../../chaos/index.js';
import { SCENARIOS } from '../../scenarios/index.js';
import { specsByName } from '../../src/harness/specs-by-name.js';

describe('specsByName', () => {
  const first = { name: 'replay', description: 'first replay' };
  const second = { name: 'ramp', description: 'a ramp' };

  it('keys specs by name in order', () => {
    const registry = specsByName('scenario', 'scenarios/index.ts', [first, second]);
    assert.deepEqual(Object.keys(registry), ['replay', 'ramp']);
    assert.equal(registry.replay, first);
    assert.equal(registry.ramp, second);
  });

  it('rejects a repeated name', () => {
    const copy = { name: 'replay', description: 'copied replay' };
    assert.throws(() => specsByName('drill', 'chaos/index.ts', [first, second, copy]), {
      message:
        'chaos/index.ts lists two drills named replay: "first replay" and "copied replay"; ' +
        'give each drill its own name',
    });
  });

  it('keys a name of an Object property', () => {
    const spec = { name: 'constructor', description: 'named like an Object property' };
    const registry = specsByName('scenario', 'scenarios/index.ts', [first, spec]);
    assert.equal(registry.constructor, spec);
  });

  it('keys the shipped registries by name', () => {
    for (const [name, spec] of Object.entries(SCENARIOS)) assert.equal(spec.name, name);
    for (const [name, spec] of Object.entries(DRILLS)) assert.equal(spec.name, name);
  });
});
