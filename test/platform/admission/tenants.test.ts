import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  hashApiKey,
  isTenantConfigError,
  keyFingerprint,
  loadDemoKeys,
  loadTenants,
  parseTenants,
} from '../../../src/platform/tenants/index.js';

const VALID_TENANT = {
  id: 'tenant-x',
  keySha256: hashApiKey('key-x'),
  tier: 'standard',
  requestsPerMinute: 10,
  tokensPerMinute: 1000,
  maxInFlight: 2,
  budgetUsd: 5,
};

function yamlOf(tenants: object[]): string {
  return JSON.stringify({ tenants });
}

describe('loadTenants', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-tenants-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('authenticates every demo key to its tenant', async () => {
    const registry = await loadTenants('fixtures/tenants.yaml');
    const keys = await loadDemoKeys('fixtures/demo-keys.yaml');
    assert.equal(keys.size, 4);
    for (const [tenantId, key] of keys) {
      assert.equal(registry.authenticate(key)?.id, tenantId);
    }
  });

  it('sizes the fixture quotas for the drill', async () => {
    const registry = await loadTenants('fixtures/tenants.yaml');
    const rpm = (id: string): number => registry.get(id)?.requestsPerMinute ?? 0;
    for (const id of ['tenant-alpha', 'tenant-beta', 'tenant-batch']) {
      assert.ok(rpm(id) >= 1800, `${id} admits a 1,800 requests/min drill alone`);
    }
    assert.equal(rpm('tenant-noisy'), 60);
    assert.deepEqual(
      registry.tenants.map((tenant) => tenant.tier),
      ['critical', 'standard', 'standard', 'batch'],
    );
  });

  it('returns undefined for an unknown key', async () => {
    const registry = await loadTenants('fixtures/tenants.yaml');
    assert.equal(registry.authenticate('not-a-key'), undefined);
    assert.equal(registry.authenticate(''), undefined);
  });

  it('names the file and field of an invalid value', async () => {
    const path = join(dir, 'tenants.yaml');
    await writeFile(path, yamlOf([{ ...VALID_TENANT, maxInFlight: 0 }]));
    await assert.rejects(loadTenants(path), (error: unknown) => {
      assert.ok(isTenantConfigError(error));
      assert.equal(error.file, path);
      assert.equal(error.field, 'tenants[0].maxInFlight');
      assert.equal(
        error.message,
        `${path}:1:173 tenants[0].maxInFlight (id tenant-x): expected a positive integer, received 0`,
      );
      return true;
    });
  });

  it('rejects a plaintext key in keySha256', () => {
    const text = yamlOf([{ ...VALID_TENANT, keySha256: 'sk-plaintext-key' }]);
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      (error: unknown) => {
        assert.ok(isTenantConfigError(error));
        assert.equal(error.field, 'tenants[0].keySha256');
        assert.ok(!error.message.includes('sk-plaintext-key'));
        return true;
      },
    );
  });

  it('rejects an unknown field', () => {
    const text = yamlOf([{ ...VALID_TENANT, requestPerMinute: 5 }]);
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      (error: unknown) => {
        assert.ok(isTenantConfigError(error));
        assert.equal(error.field, 'tenants[0].requestPerMinute');
        assert.match(error.message, /unknown field; known fields: id, keySha256, tier,/);
        return true;
      },
    );
  });

  it('rejects a plaintext key field', () => {
    const text = yamlOf([{ ...VALID_TENANT, apiKey: 'sk-plaintext-key' }]);
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      (error: unknown) => {
        assert.ok(isTenantConfigError(error));
        assert.equal(error.field, 'tenants[0].apiKey');
        assert.match(error.message, /must never contain a plaintext key/);
        assert.ok(!error.message.includes('sk-plaintext-key'));
        return true;
      },
    );
  });

  it('says how to hash a plaintext keySha256', () => {
    const text = yamlOf([{ ...VALID_TENANT, keySha256: 'sk-plaintext-key' }]);
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      (error: unknown) => {
        assert.ok(isTenantConfigError(error));
        assert.equal(
          error.problems[0]?.detail,
          "expected 64 lowercase hex digits (a sha256, never a plaintext key), received a string of 16 characters; put the hex sha256 of the tenant's API key here, as `printf %s KEY | sha256sum` prints it",
        );
        return true;
      },
    );
  });

  it('asks for a lowercase keySha256', () => {
    const upper = VALID_TENANT.keySha256.toUpperCase();
    const text = yamlOf([{ ...VALID_TENANT, keySha256: upper }]);
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      (error: unknown) => {
        assert.ok(isTenantConfigError(error));
        assert.equal(error.field, 'tenants[0].keySha256');
        assert.equal(
          error.problems[0]?.detail,
          'expected 64 lowercase hex digits (a sha256, never a plaintext key), received a string of 64 characters; write its hex digits in lowercase',
        );
        assert.ok(!error.message.includes(upper), 'the hash is printed');
        return true;
      },
    );
  });

  it('withholds a numeric keySha256', () => {
    const text = yamlOf([{ ...VALID_TENANT, keySha256: 918273645 }]);
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      (error: unknown) => {
        assert.ok(isTenantConfigError(error));
        assert.match(error.message, /received a number value$/);
        assert.ok(!error.message.includes('918273645'));
        return true;
      },
    );
  });

  it('lists every invalid entry', () => {
    const second = { ...VALID_TENANT, id: 'tenant-y', keySha256: hashApiKey('key-y') };
    const text = yamlOf([
      { ...VALID_TENANT, maxInFlight: 0 },
      second,
      { ...second, id: 'tenant-z', tier: 'gold' },
    ]);
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      (error: unknown) => {
        assert.ok(isTenantConfigError(error));
        assert.equal(error.field, 'tenants[0].maxInFlight');
        assert.equal(
          error.message,
          [
            'invalid tenants file inline.yaml (3 problems):',
            '  inline.yaml:1:173 tenants[0].maxInFlight (id tenant-x): expected a positive integer, received 0',
            '  inline.yaml:1:412 tenants[2].keySha256 (id tenant-z): duplicate key hash, also the keySha256 of tenants[1] (tenant-y) on line 1; give each tenant its own API key and put its sha256 here',
            '  inline.yaml:1:491 tenants[2].tier (id tenant-z): expected one of critical, standard, batch, received "gold"',
          ].join('\n'),
        );
        return true;
      },
    );
  });

  it('names an infinite budget', () => {
    const text = [
      'tenants:',
      '  - id: tenant-x',
      `    keySha256: ${VALID_TENANT.keySha256}`,
      '    tier: standard',
      '    requestsPerMinute: 10',
      '    tokensPerMinute: 1000',
      '    maxInFlight: 2',
      '    budgetUsd: .inf',
    ].join('\n');
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      /:8:5 tenants\[0\]\.budgetUsd \(id tenant-x\): expected a number >= 0, received Infinity$/,
    );
  });

  it('reads an optional running cap', () => {
    const second = { ...VALID_TENANT, id: 'tenant-y', keySha256: hashApiKey('key-y') };
    const tenants = parseTenants(yamlOf([{ ...VALID_TENANT, maxRunning: 3 }, second]), 'a.yaml');
    assert.equal(tenants[0]?.maxRunning, 3);
    assert.equal(tenants[1]?.maxRunning, undefined);
  });

  it('rejects a running cap of zero', () => {
    assert.throws(
      () => parseTenants(yamlOf([{ ...VALID_TENANT, maxRunning: 0 }]), 'inline.yaml'),
      /tenants\[0\]\.maxRunning \(id tenant-x\): expected a positive integer, received 0$/,
    );
  });

  it('reads anchors from a top-level x- block', () => {
    const text = [
      'x-defaults:',
      '  rpm: &rpm 600',
      'tenants:',
      '  - id: tenant-x',
      `    keySha256: ${VALID_TENANT.keySha256}`,
      '    tier: standard',
      '    requestsPerMinute: *rpm',
      '    tokensPerMinute: 1000',
      '    maxInFlight: 2',
      '    budgetUsd: 5',
    ].join('\n');
    assert.equal(parseTenants(text, 'inline.yaml')[0]?.requestsPerMinute, 600);
  });

  it('names a misspelled keySha256 as unknown', () => {
    const { keySha256, ...rest } = VALID_TENANT;
    assert.throws(
      () => parseTenants(yamlOf([{ ...rest, keysha256: keySha256 }]), 'inline.yaml'),
      /tenants\[0\]\.keysha256 \(id tenant-x\): unknown field; known fields: /,
    );
  });

  it('hides the text of a bad line', () => {
    const text = ['tenants:', '  - id: tenant-x', '    keySha256: sk-live-abc: def'].join('\n');
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      (error: unknown) => {
        assert.ok(isTenantConfigError(error));
        assert.match(
          error.message,
          /^inline\.yaml:3:16: invalid YAML: Nested mappings are not allowed in compact mappings$/,
        );
        assert.ok(!error.message.includes('sk-live-abc'));
        return true;
      },
    );
  });

  it('rejects an empty tenant list', () => {
    assert.throws(
      () => parseTenants(yamlOf([]), 'inline.yaml'),
      /^TenantConfigError: inline\.yaml:1:2 tenants: the list is empty, so no request can authenticate; add at least one tenant$/,
    );
  });

  it('rejects a duplicate tenant id', () => {
    const text = yamlOf([VALID_TENANT, { ...VALID_TENANT, keySha256: hashApiKey('key-y') }]);
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      (error: unknown) => {
        assert.ok(isTenantConfigError(error));
        assert.equal(error.field, 'tenants[1].id');
        assert.equal(
          error.detail,
          'duplicate id tenant-x, also the id of tenants[0] on line 1; give each tenant its own id',
        );
        return true;
      },
    );
  });

  it('names the first owner of a duplicate key', () => {
    const first = { ...VALID_TENANT, id: 'tenant-w', keySha256: hashApiKey('key-w') };
    const text = yamlOf([first, VALID_TENANT, { ...VALID_TENANT, id: 'tenant-y' }]);
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      (error: unknown) => {
        assert.ok(isTenantConfigError(error));
        assert.equal(error.field, 'tenants[2].keySha256');
        assert.equal(
          error.detail,
          'duplicate key hash, also the keySha256 of tenants[1] (tenant-x) on line 1; ' +
            'give each tenant its own API key and put its sha256 here',
        );
        assert.ok(!error.message.includes(VALID_TENANT.keySha256), 'the hash is quoted');
        return true;
      },
    );
  });

  for (const [field, value, detail] of [
    ['budgetUsd', '25', 'expected a number >= 0, received "25"; write 25 without quotes'],
    ['maxInFlight', '30', 'expected a positive integer, received "30"; write 30 without quotes'],
    ['maxInFlight', '1.5', 'expected a positive integer, received "1.5"'],
    ['requestsPerMinute', '-60', 'expected a positive integer, received "-60"'],
    ['budgetUsd', '$25', 'expected a number >= 0, received "$25"'],
  ] as const) {
    it(`explains quoted ${field} ${value}`, () => {
      const text = yamlOf([{ ...VALID_TENANT, [field]: value }]);
      assert.throws(
        () => parseTenants(text, 'inline.yaml'),
        (error: unknown) => {
          assert.ok(isTenantConfigError(error));
          assert.equal(error.field, `tenants[0].${field}`);
          assert.equal(error.detail, detail);
          return true;
        },
      );
    });
  }

  it('rejects an unknown tier', () => {
    const text = yamlOf([{ ...VALID_TENANT, tier: 'gold' }]);
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      /tenants\[0\]\.tier \(id tenant-x\): expected one of critical, standard, batch, received "gold"/,
    );
  });

  it('reports a missing file', async () => {
    await assert.rejects(loadTenants(join(dir, 'absent.yaml')), (error: unknown) => {
      assert.ok(isTenantConfigError(error));
      assert.equal(error.field, '(file)');
      return true;
    });
  });
});

/** Tenants YAML text of `ids` in order, one entry each, with distinct key hashes. */
function yamlOfIds(ids: readonly string[]): string {
  const entries = ids.map((id, index) => ({
    ...VALID_TENANT,
    id,
    keySha256: hashApiKey(`key-${index}`),
  }));
  return yamlOf(entries);
}

/** Returns the one problem line that parseTenants raises for `text`. */
function onlyProblem(text: string): string {
  try {
    parseTenants(text, 'inline.yaml');
  } catch (error) {
    assert.ok(isTenantConfigError(error));
    assert.equal(error.problems.length, 1, error.message);
    return error.message;
  }
  assert.fail('parseTenants accepted the file');
}

describe('parseTenants budgetPeriod', () => {
  it('reads day and month', () => {
    const second = { ...VALID_TENANT, id: 'tenant-y', keySha256: hashApiKey('key-y') };
    const text = yamlOf([
      { ...VALID_TENANT, budgetPeriod: 'day' },
      { ...second, budgetPeriod: 'month' },
    ]);
    const tenants = parseTenants(text, 'a.yaml');
    assert.equal(tenants[0]?.budgetPeriod, 'day');
    assert.equal(tenants[1]?.budgetPeriod, 'month');
  });

  it('leaves an absent period out', () => {
    const [tenant] = parseTenants(yamlOf([VALID_TENANT]), 'a.yaml');
    assert.equal(tenant?.budgetPeriod, undefined);
    assert.equal(tenant !== undefined && 'budgetPeriod' in tenant, false);
  });

  it('reads total', () => {
    const [tenant] = parseTenants(yamlOf([{ ...VALID_TENANT, budgetPeriod: 'total' }]), 'a.yaml');
    assert.equal(tenant?.budgetPeriod, 'total');
  });

  it('rejects an unknown period', () => {
    const text = [
      'tenants:',
      '  - id: tenant-x',
      `    keySha256: ${VALID_TENANT.keySha256}`,
      '    tier: standard',
      '    requestsPerMinute: 10',
      '    tokensPerMinute: 1000',
      '    maxInFlight: 2',
      '    budgetUsd: 5',
      '    budgetPeriod: weekly',
    ].join('\n');
    assert.equal(
      onlyProblem(text),
      'inline.yaml:9:5 tenants[0].budgetPeriod (id tenant-x): expected one of total, day, month, received "weekly"',
    );
  });
});

describe('parseTenants budgetPeriod spellings', () => {
  const cases: [written: unknown, fix: string][] = [
    ['Day', '; write day'],
    ['MONTH', '; write month'],
    [' day', '; write day'],
    ['daily', '; write day'],
    ['Monthly', '; write month'],
  ];
  for (const [written, fix] of cases) {
    it(`suggests the period for ${JSON.stringify(written)}`, () => {
      assert.equal(
        onlyProblem(yamlOf([{ ...VALID_TENANT, budgetPeriod: written }])),
        `inline.yaml:1:203 tenants[0].budgetPeriod (id tenant-x): expected one of total, day, month, received ${JSON.stringify(written)}${fix}`,
      );
    });
  }

  it('names the default for an empty value', () => {
    assert.match(
      onlyProblem(yamlOf([{ ...VALID_TENANT, budgetPeriod: null }])),
      /received null; remove budgetPeriod for the default, total$/,
    );
  });

  it('suggests nothing for a number', () => {
    assert.match(
      onlyProblem(yamlOf([{ ...VALID_TENANT, budgetPeriod: 1 }])),
      /budgetPeriod \(id tenant-x\): expected one of total, day, month, received 1$/,
    );
  });
});

describe('parseTenants tenant ids', () => {
  it('accepts ids of every allowed character', () => {
    const ids = ['tenant-alpha', '0team', 'a', 'org.team_1-prod', 'x'.repeat(64)];
    const tenants = parseTenants(yamlOfIds(ids), 'a.yaml');
    assert.deepEqual(
      tenants.map((tenant) => tenant.id),
      ids,
    );
  });

  it('names the file, path, value and fix', () => {
    const text = [
      'tenants:',
      ...['tenant-a', 'tenant-b', 'Tenant C'].flatMap((id, index) => [
        `  - id: ${id}`,
        `    keySha256: ${hashApiKey(`key-${index}`)}`,
        '    tier: standard',
        '    requestsPerMinute: 10',
        '    tokensPerMinute: 1000',
        '    maxInFlight: 2',
        '    budgetUsd: 5',
      ]),
    ].join('\n');
    assert.equal(
      onlyProblem(text),
      `inline.yaml:16:5 tenants[2].id: expected an id of 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit, received "Tenant C"; rename the tenant to an id of that form, such as tenant-c, because ids go into Redis keys, metric labels and reports`,
    );
  });

  it('rejects an id of 65 characters', () => {
    assert.match(
      onlyProblem(yamlOfIds(['x'.repeat(65)])),
      /tenants\[0\]\.id: expected an id of 1 to 64 .*; it has 65 characters, so rename the tenant to an id of that form, because ids go into Redis keys, metric labels and reports$/,
    );
  });

  it('rejects a leading hyphen', () => {
    assert.match(
      onlyProblem(yamlOfIds(['-tenant'])),
      /received "-tenant"; rename the tenant to an id of that form, such as tenant, because/,
    );
  });

  it('rejects a Redis hash tag brace', () => {
    assert.match(
      onlyProblem(yamlOfIds(['tenant}a'])),
      /received "tenant}a"; rename the tenant to an id of that form, such as tenant-a, because/,
    );
  });

  it('rejects a colon and a space', () => {
    assert.match(onlyProblem(yamlOfIds(['team:a b'])), /received "team:a b"; .* such as team-a-b,/);
  });

  it('asks to quote a number id', () => {
    const text = yamlOf([{ ...VALID_TENANT, id: 42 }]);
    assert.match(
      onlyProblem(text),
      /tenants\[0\]\.id: expected a non-empty string, received 42; write the id in quotes, as in id: "42", so YAML reads it as a string$/,
    );
  });

  it('asks to quote a boolean id', () => {
    assert.match(
      onlyProblem(yamlOf([{ ...VALID_TENANT, id: true }])),
      /tenants\[0\]\.id: expected a non-empty string, received true; write the id in quotes, as in id: "true", so YAML reads it as a string$/,
    );
  });

  it('rejects an empty id', () => {
    assert.match(
      onlyProblem(yamlOfIds([''])),
      /tenants\[0\]\.id: expected a non-empty string, received ""$/,
    );
  });

  it('labels no problem with an invalid id', () => {
    const text = yamlOf([{ ...VALID_TENANT, id: 'Tenant X', maxInFlight: 0 }]);
    assert.throws(
      () => parseTenants(text, 'inline.yaml'),
      (error: unknown) => {
        assert.ok(isTenantConfigError(error));
        assert.deepEqual(
          error.problems.map((problem) => problem.tenantId),
          [undefined, undefined],
        );
        assert.deepEqual(
          error.problems.map((problem) => problem.field),
          ['tenants[0].id', 'tenants[0].maxInFlight'],
        );
        return true;
      },
    );
  });
});

describe('keyFingerprint', () => {
  it('returns 12 hex digits of the sha256', () => {
    assert.equal(keyFingerprint('abc'), 'ba7816bf8f01');
  });
});
