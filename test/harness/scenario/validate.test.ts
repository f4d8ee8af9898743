import assert from 'node:assert/strict';
import { SCENARIOS } from '../../../scenarios/index.js';
import {
  isScenarioNotFoundError,
  isScenarioValidationError,
} from '../../../src/harness/scenario/errors.js';
import { findScenario } from '../../../src/harness/scenario/registry.js';
import { validateScenario } from '../../../src/harness/scenario/validate.js';
import { sampleSpec } from '../load/sample-spec.js';

function validationMessage(spec: unknown): string {
  try {
    validateScenario(spec);
  } catch (error) {
    assert.ok(isScenarioValidationError(error));
    return error.message;
  }
  assert.fail('expected a ScenarioValidationError');
}

describe('validateScenario', () => {
  it('accepts every shipped scenario', () => {
    assert.deepEqual(Object.keys(SCENARIOS).sort(), [
      'agent-mix',
      'conv-replay',
      'ramp',
      'steady-chat',
    ]);
    for (const [name, spec] of Object.entries(SCENARIOS)) {
      assert.equal(validateScenario(spec).name, name);
    }
  });

  it('names the field of an invalid ramp stage', () => {
    const spec = sampleSpec({
      arrival: {
        kind: 'ramp',
        startRatePerSec: 1,
        stages: [
          { durationSec: 10, targetRatePerSec: 5 },
          { durationSec: -5, targetRatePerSec: 5 },
        ],
      },
    });
    assert.equal(
      validationMessage(spec),
      'scenario.arrival.stages[1].durationSec: expected a positive number, got -5',
    );
  });

  it('lists every invalid field with its path', () => {
    const spec = { ...sampleSpec(), target: 'ftp://127.0.0.1', modes: { sync: -1, async: 0 } };
    try {
      validateScenario(spec);
      assert.fail('expected a ScenarioValidationError');
    } catch (error) {
      assert.ok(isScenarioValidationError(error));
      assert.deepEqual(
        error.issues.map((issue) => issue.path),
        ['scenario.target', 'scenario.modes.sync'],
      );
    }
  });

  it('rejects a target off loopback', () => {
    for (const target of ['http://10.0.0.1:8080', 'https://example.com', 'http://[::2]:80']) {
      assert.equal(
        validationMessage({ ...sampleSpec(), target }),
        `scenario.target: expected a URL on a loopback host (127.0.0.0/8, ::1 or localhost), got "${target}"`,
      );
    }
  });

  it('accepts loopback targets', () => {
    for (const target of ['http://127.0.0.2:8080', 'http://localhost:3000', 'http://[::1]:9000']) {
      assert.equal(validateScenario({ ...sampleSpec(), target }).target, target);
    }
  });

  it('rejects trace task sizes without a trace arrival', () => {
    const spec = sampleSpec({ tasks: { source: 'trace' } });
    assert.equal(
      validationMessage(spec),
      'scenario.tasks.source: expected "distribution" unless arrival.kind is "trace", got "trace"',
    );
  });

  it('rejects a per-tenant objective for an unlisted tenant', () => {
    const spec = sampleSpec({ slo: { perTenant: { 'tenant-x': { successRate: 0.9 } } } });
    assert.equal(
      validationMessage(spec),
      'scenario.slo.perTenant.tenant-x: expected a tenant listed in tenants, got "tenant-x"',
    );
  });

  it('rejects a success rate above 1', () => {
    const spec = sampleSpec({ slo: { successRate: 99 } });
    assert.equal(
      validationMessage(spec),
      'scenario.slo.successRate: expected a number from 0 to 1, got 99',
    );
  });
});

describe('findScenario', () => {
  it('raises for an unknown name', () => {
    assert.throws(
      () => findScenario(SCENARIOS, 'nope'),
      (error: unknown) => isScenarioNotFoundError(error) && error.scenarioName === 'nope',
    );
  });
});
