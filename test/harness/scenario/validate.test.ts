import assert from 'node:assert/strict';
import { SCENARIOS } from '../../../scenarios/index.js';
import {
  isScenarioNotFoundError,
  isScenarioValidationError,
} from '../../../src/harness/scenario/errors.js';
import { findScenario } from '../../../src/harness/scenario/registry.js';
import { validateScenario, validateTarget } from '../../../src/harness/scenario/validate.js';
import type { ScenarioSpec } from '../../../src/harness/scenario/types.js';
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
      'async-chat',
      'conv-replay',
      'noisy-flood',
      'noisy-hold',
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

  it('rejects a ramp that stays at 0', () => {
    const stages = [
      { durationSec: 10, targetRatePerSec: 0 },
      { durationSec: 20, targetRatePerSec: 0 },
    ];
    const spec = sampleSpec({ arrival: { kind: 'ramp', startRatePerSec: 0, stages } });
    assert.equal(
      validationMessage(spec),
      'scenario.arrival.stages: expected a stage with a targetRatePerSec above 0, got a ' +
        "startRatePerSec and every targetRatePerSec of 0; raise a stage's targetRatePerSec, " +
        'because a ramp that stays at 0 sends no request',
    );
  });

  it('accepts a ramp that starts at 0', () => {
    const stages = [{ durationSec: 10, targetRatePerSec: 2 }];
    const spec = sampleSpec({ arrival: { kind: 'ramp', startRatePerSec: 0, stages } });
    assert.equal(validateScenario(spec).arrival.kind, 'ramp');
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
    const cases = [
      ['http://10.0.0.1:8080', 'http://127.0.0.1:8080'],
      ['https://example.com', 'http://127.0.0.1:8080'],
      ['http://[::2]:81', 'http://127.0.0.1:81'],
    ];
    for (const [target, suggested] of cases) {
      assert.equal(
        validationMessage({ ...sampleSpec(), target }),
        `scenario.target: expected a URL on a loopback host (127.0.0.0/8, ::1 or localhost), got "${target}"; ` +
          `load sends only to this machine, so pass a gateway on loopback, such as ${suggested}`,
      );
    }
  });

  it('accepts loopback targets', () => {
    for (const target of ['http://127.0.0.2:8080', 'http://localhost:3000', 'http://[::1]:9000']) {
      assert.equal(validateScenario({ ...sampleSpec(), target }).target, target);
    }
  });

  it('rejects a target with credentials', () => {
    const message = validationMessage({ ...sampleSpec(), target: 'http://admin:hunter2@[::1]:80' });
    assert.equal(
      message,
      'scenario.target: expected a URL without a user name or password, got "http://***:***@[::1]/"; ' +
        'the gateway authenticates with tenant API keys, so pass http://[::1]',
    );
    assert.doesNotMatch(message, /hunter2|admin/);
  });

  it('masks credentials in a target of another scheme', () => {
    const message = validationMessage({ ...sampleSpec(), target: 'ftp://user:s3cret@127.0.0.1:1' });
    assert.match(
      message,
      /expected an http or https URL, got "ftp:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:1"/,
    );
    assert.doesNotMatch(message, /s3cret/);
  });

  it('points a remote target with credentials at loopback', () => {
    const message = validationMessage({ ...sampleSpec(), target: 'http://u:p@10.0.0.1:81' });
    assert.match(message, /pass a loopback origin such as http:\/\/127\.0\.0\.1:81$/);
  });

  it('rejects a target with a path or query', () => {
    for (const target of ['http://127.0.0.1:8080/v1', 'http://127.0.0.1:8080/?a=1']) {
      assert.equal(
        validationMessage({ ...sampleSpec(), target }),
        `scenario.target: expected a URL with no path, query or fragment, got "${target}"; ` +
          'only the origin is used, because request paths are absolute (/v1/tasks); pass http://127.0.0.1:8080',
      );
    }
  });

  it('accepts a target ending in a slash', () => {
    const target = 'http://127.0.0.1:8080/';
    assert.equal(validateScenario({ ...sampleSpec(), target }).target, target);
  });

  it('names --target in its errors', () => {
    assert.throws(
      () => validateTarget('--target', 'http://127.0.0.1:8080/api'),
      (error: unknown) => {
        assert.ok(isScenarioValidationError(error));
        assert.match(error.message, /^--target: expected a URL with no path, query or fragment, /);
        return true;
      },
    );
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
      'scenario.slo.successRate: expected a number from 0 to 1, got 99; write 0.99 for 99%',
    );
  });

  it('rejects a rate far above 1', () => {
    const spec = sampleSpec({ slo: { successRate: 990 } });
    assert.equal(
      validationMessage(spec),
      'scenario.slo.successRate: expected a number from 0 to 1, got 990',
    );
  });

  it('rejects a misspelled objective', () => {
    const spec = { ...sampleSpec(), slo: { succesRate: 0.99 } };
    assert.equal(
      validationMessage(spec),
      'scenario.slo.succesRate: expected one of the fields successRate, p50LatencyMs, ' +
        'p95LatencyMs, p99LatencyMs, perTenant, got unknown field "succesRate" set to 0.99; ' +
        'did you mean "successRate"?',
    );
  });

  it('rejects an unknown per-tenant objective', () => {
    const spec = {
      ...sampleSpec(),
      slo: { perTenant: { 'tenant-alpha': { p95latency: 4000 } } },
    };
    assert.equal(
      validationMessage(spec),
      'scenario.slo.perTenant.tenant-alpha.p95latency: expected one of the fields ' +
        'successRate, p50LatencyMs, p95LatencyMs, p99LatencyMs, got unknown field ' +
        '"p95latency" set to 4000; did you mean "p95LatencyMs"?',
    );
  });

  it('suggests no field for a distant name', () => {
    const spec = { ...sampleSpec(), modes: { sync: 1, async: 0, batch: 2 } };
    assert.equal(
      validationMessage(spec),
      'scenario.modes.batch: expected one of the fields sync, async, got unknown field ' +
        '"batch" set to 2',
    );
  });

  it('accepts a tenant with its own tasks and modes', () => {
    const base = sampleSpec();
    const tasks = base.tasks.source === 'distribution' ? base.tasks : assert.fail('sample tasks');
    const spec = sampleSpec({
      tenants: [
        { tenantId: 'tenant-alpha', weight: 1 },
        { tenantId: 'tenant-beta', weight: 1, tasks, modes: { sync: 0, async: 1 } },
      ],
    });
    assert.equal(validateScenario(spec).tenants[1]?.modes?.async, 1);
  });

  it('names invalid tenant tasks and modes', () => {
    const spec = sampleSpec({
      tenants: [
        {
          tenantId: 'tenant-alpha',
          weight: 1,
          modes: { sync: 0, async: 0 },
          tasks: { source: 'distribution', kinds: [] },
        },
        { tenantId: 'tenant-beta', weight: 1, tasks: { source: 'trace' } },
      ],
    } as unknown as Partial<ScenarioSpec>);
    try {
      validateScenario(spec);
      assert.fail('expected a ScenarioValidationError');
    } catch (error) {
      assert.ok(isScenarioValidationError(error));
      assert.deepEqual(
        error.issues.map((issue) => [issue.path, issue.expected]),
        [
          ['scenario.tenants[0].modes', 'a positive sync or async weight'],
          ['scenario.tenants[0].tasks.kinds', 'a non-empty array'],
          [
            'scenario.tenants[1].tasks.source',
            '"distribution", because trace rows size the tasks of every tenant',
          ],
        ],
      );
    }
  });

  it('names unknown fields at every level', () => {
    const base = sampleSpec();
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [{ ...base, durationSecs: 5 }, 'scenario.durationSecs'],
      [{ ...base, arrival: { kind: 'constant', ratePerSec: 1, rate: 2 } }, 'scenario.arrival.rate'],
      [
        {
          ...base,
          arrival: {
            kind: 'ramp',
            startRatePerSec: 1,
            stages: [{ durationSec: 1, targetRate: 2 }],
          },
        },
        'scenario.arrival.stages[0].targetRate',
      ],
      [
        {
          ...base,
          arrival: {
            kind: 'burst',
            baseRatePerSec: 1,
            burstRatePerSec: 2,
            windows: [{ startSec: 0, durationSec: 1, endSec: 1 }],
          },
        },
        'scenario.arrival.windows[0].endSec',
      ],
      [
        {
          ...base,
          arrival: {
            kind: 'trace',
            file: 'x.csv',
            speedUp: 1,
            window: { startSec: 0, durationSec: 1, stopSec: 1 },
          },
          tasks: { source: 'trace' },
        },
        'scenario.arrival.window.stopSec',
      ],
      [
        { ...base, tenants: [{ tenantId: 'tenant-alpha', weight: 1, quota: 5 }] },
        'scenario.tenants[0].quota',
      ],
      [
        {
          ...base,
          tenants: [
            { tenantId: 'tenant-alpha', weight: 1, modes: { sync: 1, async: 0, batch: 1 } },
          ],
        },
        'scenario.tenants[0].modes.batch',
      ],
      [
        { ...base, routes: [{ route: 'chat', weight: 1, tasks: base.tasks }] },
        'scenario.routes[0].tasks',
      ],
      [{ ...base, routes: [{ route: 'chat', weight: 1, model: 'x' }] }, 'scenario.routes[0].model'],
      [
        {
          ...base,
          tasks: {
            source: 'distribution',
            kinds: [
              {
                name: 'chat',
                weight: 1,
                inputTokens: { kind: 'constant', value: 1, max: 2 },
                outputTokens: { kind: 'constant', value: 1 },
              },
            ],
          },
        },
        'scenario.tasks.kinds[0].inputTokens.max',
      ],
    ];
    for (const [spec, path] of cases) {
      assert.match(validationMessage(spec), new RegExp(`^${path.replace(/[.[\]]/g, '\\$&')}: `));
    }
  });
});

describe('findScenario', () => {
  it('raises for an unknown name', () => {
    assert.throws(
      () => findScenario(SCENARIOS, 'nope'),
      (error: unknown) => isScenarioNotFoundError(error) && error.scenarioName === 'nope',
    );
  });

  it('raises for an Object.prototype name', () => {
    for (const name of ['toString', 'constructor', '__proto__']) {
      assert.throws(
        () => findScenario(SCENARIOS, name),
        (error: unknown) => isScenarioNotFoundError(error) && error.scenarioName === name,
        name,
      );
    }
  });
});
