import assert from 'node:assert/strict';

import { tenantWarnings } from '../../../src/platform/tenants/tenant-warnings.js';
import type { Tenant } from '../../../src/platform/tenants/tenant.js';

function tenant(id: string, overrides: Partial<Tenant> = {}): Tenant {
  return {
    id,
    keySha256: 'a'.repeat(64),
    tier: 'standard',
    requestsPerMinute: 100,
    tokensPerMinute: 100_000,
    maxInFlight: 10,
    budgetUsd: 10,
    ...overrides,
  };
}

describe('tenantWarnings', () => {
  it('names a budget of 0', () => {
    const [warning, ...rest] = tenantWarnings([tenant('tenant-a', { budgetUsd: 0 })], 't.yaml');
    assert.deepEqual(rest, []);
    assert.equal(warning?.tenantId, 'tenant-a');
    assert.equal(warning?.field, 'budgetUsd');
    assert.equal(warning?.value, 0);
    assert.equal(
      warning?.message,
      "tenant tenant-a in t.yaml: budgetUsd is 0, so admission rejects each of the tenant's " +
        "tasks with 429 budget_exhausted unless every model of the task's route costs " +
        "nothing, as instant does; keep 0 only to stop the tenant's paid tasks, otherwise " +
        'set budgetUsd to the US dollars the tenant may spend in total (budgetPeriod total, ' +
        'which never resets)',
    );
  });

  it('names the period of a zero day budget', () => {
    const [warning] = tenantWarnings(
      [tenant('tenant-a', { budgetUsd: 0, budgetPeriod: 'day' })],
      't.yaml',
    );
    assert.match(
      warning?.detail ?? '',
      /set budgetUsd to the US dollars the tenant may spend per UTC day \(budgetPeriod day\)$/,
    );
  });

  it('names the period of a zero month budget', () => {
    const [warning] = tenantWarnings(
      [tenant('tenant-a', { budgetUsd: 0, budgetPeriod: 'month' })],
      't.yaml',
    );
    assert.match(warning?.detail ?? '', /may spend per UTC calendar month \(budgetPeriod month\)$/);
  });

  it('names a running cap above maxInFlight', () => {
    const capped = tenant('tenant-a', { maxInFlight: 10, maxRunning: 12 });
    const [warning, ...rest] = tenantWarnings([capped], 't.yaml');
    assert.deepEqual(rest, []);
    assert.equal(warning?.field, 'maxRunning');
    assert.equal(warning?.value, 12);
    assert.equal(
      warning?.detail,
      'maxRunning 12 is above maxInFlight 10, so the cap never holds back a task, because ' +
        "admission lets at most 10 of the tenant's tasks be in flight, running ones " +
        'included; set maxRunning below 10, or remove it',
    );
  });

  it('advises removal at maxInFlight 1', () => {
    const capped = tenant('tenant-a', { maxInFlight: 1, maxRunning: 2 });
    const [warning] = tenantWarnings([capped], 't.yaml');
    assert.match(
      warning?.detail ?? '',
      /; remove maxRunning, as no cap below maxInFlight 1 exists$/,
    );
  });

  it('passes a cap at or below maxInFlight', () => {
    const tenants = [
      tenant('tenant-a', { maxInFlight: 10, maxRunning: 10 }),
      tenant('tenant-b', { maxInFlight: 10, maxRunning: 3 }),
      tenant('tenant-c'),
    ];
    assert.deepEqual(tenantWarnings(tenants, 't.yaml'), []);
  });

  it('lists both warnings of one tenant', () => {
    const both = tenant('tenant-a', { budgetUsd: 0, maxInFlight: 2, maxRunning: 3 });
    const fields = tenantWarnings([both], 't.yaml').map((warning) => warning.field);
    assert.deepEqual(fields, ['budgetUsd', 'maxRunning']);
  });
});
