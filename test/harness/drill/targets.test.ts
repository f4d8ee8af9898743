import assert from 'node:assert/strict';

import { providerOutageDrill } from '../../../chaos/provider-outage.js';
import { isDrillSpecError } from '../../../src/harness/drill/errors.js';
import type { DrillSpec } from '../../../src/harness/drill/spec.js';
import { checkDrillTargets, type DrillTargets } from '../../../src/harness/drill/targets.js';

const targets: DrillTargets = {
  providers: ['instant', 'provider-a', 'provider-b', 'provider-c'],
  tenants: ['tenant-alpha', 'tenant-beta', 'tenant-noisy', 'tenant-batch'],
  tenantsFile: 'fixtures/tenants.yaml',
  keysFile: 'fixtures/demo-keys.yaml',
};

const PROVIDERS = 'known: instant, provider-a, provider-b, provider-c';

function withFault(index: number, patch: Record<string, unknown>): DrillSpec {
  const faults = providerOutageDrill.faults.map((step, at) =>
    at === index ? { ...step, ...patch } : step,
  );
  return { ...providerOutageDrill, faults } as DrillSpec;
}

function problemOf(spec: DrillSpec): { field: string; message: string } {
  try {
    checkDrillTargets(spec, targets);
  } catch (error) {
    assert.ok(isDrillSpecError(error));
    return { field: error.field, message: error.message };
  }
  assert.fail('expected a DrillSpecError');
}

describe('checkDrillTargets', () => {
  it('accepts the provider-outage drill', () => {
    assert.doesNotThrow(() => checkDrillTargets(providerOutageDrill, targets));
  });

  it('rejects an unknown provider', () => {
    const problem = problemOf(withFault(0, { provider: 'provider-z' }));
    assert.equal(problem.field, 'faults[0].provider');
    assert.equal(
      problem.message,
      'invalid drill spec: faults[0].provider is provider-z, which is not a known provider; ' +
        `${PROVIDERS}; use one of them, or add a provider profile to fixtures/providers`,
    );
  });

  it('rejects an unknown fallback', () => {
    const problem = problemOf(withFault(0, { failover: { fallback: 'provider-q' } }));
    assert.equal(problem.field, 'faults[0].failover.fallback');
    assert.match(problem.message, /is provider-q, which is not a known provider; known: /);
  });

  it('rejects an unknown proxy', () => {
    const problem = problemOf(withFault(1, { proxy: 'provider-bb' }));
    assert.equal(problem.field, 'faults[1].proxy');
    assert.equal(
      problem.message,
      'invalid drill spec: faults[1].proxy is provider-bb, which is not a known proxy; ' +
        `${PROVIDERS}; the platform creates one proxy per provider, named after it, so use ` +
        'one of them',
    );
  });

  it('rejects an unknown burst tenant', () => {
    const problem = problemOf(withFault(2, { tenant: 'tenant-nosy' }));
    assert.equal(problem.field, 'faults[2].tenant');
    assert.equal(
      problem.message,
      'invalid drill spec: faults[2].tenant is tenant-nosy, which is not a known tenant; ' +
        'known: tenant-alpha, tenant-beta, tenant-noisy, tenant-batch; use one of them, or ' +
        'add its API key to fixtures/demo-keys.yaml and the tenant to fixtures/tenants.yaml',
    );
  });
});
