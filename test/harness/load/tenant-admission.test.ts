import assert from 'node:assert/strict';

import { SCENARIOS } from '../../../scenarios/index.js';
import {
  admittingTenants,
  asyncSendingTenants,
  isUnadmittedTenantsError,
  unadmittedTenants,
} from '../../../src/harness/load/tenant-admission.js';
import type { ScenarioSpec } from '../../../src/harness/scenario/types.js';
import { hashApiKey } from '../../../src/platform/tenants/api-key.js';
import { TenantRegistry } from '../../../src/platform/tenants/registry.js';
import type { Tenant } from '../../../src/platform/tenants/tenant.js';

function tenant(id: string, key: string): Tenant {
  return {
    id,
    keySha256: hashApiKey(key),
    tier: 'standard',
    requestsPerMinute: 60,
    tokensPerMinute: 10_000,
    maxInFlight: 10,
    budgetUsd: 1,
  };
}

function scenario(name: string): ScenarioSpec {
  const found = SCENARIOS[name];
  assert.ok(found !== undefined, name);
  return found;
}

describe('unadmittedTenants', () => {
  it('finds nothing when every key is admitted', () => {
    const registry = new TenantRegistry([tenant('tenant-a', 'key-a'), tenant('tenant-b', 'key-b')]);
    assert.deepEqual(unadmittedTenants(registry, { 'tenant-a': 'key-a', 'tenant-b': 'key-b' }), []);
  });

  it('names each tenant without a key entry', () => {
    const registry = new TenantRegistry([tenant('tenant-a', 'key-a')]);
    const keys = { 'tenant-c': 'key-c', 'tenant-a': 'key-a', 'tenant-b': 'key-b' };
    assert.deepEqual(unadmittedTenants(registry, keys), ['tenant-c', 'tenant-b']);
  });

  it('names a tenant whose entry has another key', () => {
    const registry = new TenantRegistry([tenant('tenant-a', 'rotated-key')]);
    assert.deepEqual(unadmittedTenants(registry, { 'tenant-a': 'key-a' }), ['tenant-a']);
  });

  it('accepts a key admitted under another id', () => {
    const registry = new TenantRegistry([tenant('alpha', 'key-a')]);
    assert.deepEqual(unadmittedTenants(registry, { 'tenant-a': 'key-a' }), []);
  });
});

describe('admittingTenants', () => {
  const files = {
    keysFile: 'fixtures/demo-keys.yaml',
    defaultTenantsFile: 'fixtures/tenants.yaml',
  };

  it('returns the entry that admits each key', () => {
    const registry = new TenantRegistry([tenant('tenant-a', 'key-a'), tenant('alpha', 'key-b')]);
    const admitting = admittingTenants(
      registry,
      { 'tenant-a': 'key-a', 'tenant-b': 'key-b' },
      'trial.yaml',
      { ...files, sender: { kind: 'drill', name: 'worker-loss' } },
    );
    assert.deepEqual(
      [...admitting].map(([id, entry]) => [id, entry.id]),
      [
        ['tenant-a', 'tenant-a'],
        ['tenant-b', 'alpha'],
      ],
    );
  });

  it('names the drill that sends as the tenant', () => {
    const registry = new TenantRegistry([tenant('tenant-a', 'key-a')]);
    const keys = { 'tenant-a': 'key-a', 'tenant-noisy': 'key-n' };
    const sender = { kind: 'drill', name: 'provider-outage' } as const;
    assert.throws(
      () => admittingTenants(registry, keys, 'trial.yaml', { ...files, sender }),
      (error: unknown) => {
        assert.ok(isUnadmittedTenantsError(error), String(error));
        assert.deepEqual(error.tenantIds, ['tenant-noisy']);
        assert.equal(
          error.message,
          'tenants file trial.yaml admits no API key of tenant tenant-noisy, which drill ' +
            'provider-outage sends as with the keys in fixtures/demo-keys.yaml, so those ' +
            'requests would get 401; copy its entry from fixtures/tenants.yaml into ' +
            'trial.yaml, keeping keySha256, the sha256 of the key, or pick a drill that sends ' +
            'only as tenants of the file',
        );
        return true;
      },
    );
  });
});

describe('asyncSendingTenants', () => {
  it('finds none in a sync-only scenario', () => {
    assert.deepEqual([...asyncSendingTenants(scenario('steady-chat'))], []);
  });

  it('takes a tenant mode over the scenario mode', () => {
    // noisy-hold sends tenant-noisy's tasks async only, and the others' a quarter async.
    assert.deepEqual([...asyncSendingTenants(scenario('noisy-hold'))].sort(), [
      'tenant-alpha',
      'tenant-beta',
      'tenant-noisy',
    ]);
  });

  it('leaves out a tenant whose own mode is sync', () => {
    const spec: ScenarioSpec = {
      ...scenario('conv-replay'),
      tenants: [
        { tenantId: 'tenant-alpha', weight: 1 },
        { tenantId: 'tenant-beta', weight: 1, modes: { sync: 1, async: 0 } },
      ],
    };
    assert.deepEqual([...asyncSendingTenants(spec)], ['tenant-alpha']);
  });

  it('leaves out a tenant of weight 0', () => {
    const spec: ScenarioSpec = {
      ...scenario('async-chat'),
      tenants: [
        { tenantId: 'tenant-alpha', weight: 1 },
        { tenantId: 'tenant-noisy', weight: 0 },
      ],
    };
    assert.deepEqual([...asyncSendingTenants(spec)], ['tenant-alpha']);
  });
});
