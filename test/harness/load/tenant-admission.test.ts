import assert from 'node:assert/strict';

import { SCENARIOS } from '../../../scenarios/index.js';
import {
  asyncSendingTenants,
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
