import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SCENARIOS } from '../../scenarios/index.js';
import { isUsageError } from '../../src/cli/command-errors.js';
import {
  checkScenarioRoutes,
  platformWarningsFor,
  readPlatformFiles,
} from '../../src/cli/load-platform-files.js';
import { isUnadmittedTenantsError } from '../../src/harness/load/tenant-admission.js';
import { isPriceTableError } from '../../src/platform/cost/errors.js';
import type { ScenarioSpec } from '../../src/harness/scenario/types.js';
import type { IneffectiveRunningCap } from '../../src/platform/runtime/running-caps.js';

function scenario(name: string): ScenarioSpec {
  const found = SCENARIOS[name];
  assert.ok(found !== undefined, name);
  return found;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Returns fixtures/tenants.yaml without the entries of `ids`. */
async function tenantsWithout(ids: readonly string[]): Promise<string> {
  const text = await readFile('fixtures/tenants.yaml', 'utf8');
  const [head = '', ...entries] = text.split(/^ {2}- /m);
  const kept = entries.filter((entry) => !ids.some((id) => entry.startsWith(`id: ${id}\n`)));
  return [head, ...kept].join('  - ');
}

/** Options of a run on the shipped files. */
const NO_FILES = { tenants: undefined, prices: undefined };

describe('readPlatformFiles', () => {
  let dir = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-load-files-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes the default files', async () => {
    const files = await readPlatformFiles(scenario('steady-chat'), NO_FILES);
    assert.equal(files.tenants.path, 'fixtures/tenants.yaml');
    assert.equal(files.tenants.sha256, sha256(await readFile('fixtures/tenants.yaml', 'utf8')));
    assert.equal(files.prices.path, 'fixtures/prices.yaml');
    assert.equal(files.prices.sha256, sha256(await readFile('fixtures/prices.yaml', 'utf8')));
  });

  it('hashes a given tenants file', async () => {
    const path = join(dir, 'tenants.yaml');
    const text = `${await readFile('fixtures/tenants.yaml', 'utf8')}# edited\n`;
    await writeFile(path, text);
    const files = await readPlatformFiles(scenario('steady-chat'), {
      tenants: path,
      prices: undefined,
    });
    assert.deepEqual(files.tenants, { path, sha256: sha256(text) });
  });

  it('hashes a given price table', async () => {
    const path = join(dir, 'prices.yaml');
    const text = (await readFile('fixtures/prices.yaml', 'utf8')).replace(
      'gpt-4o: { inputPerMillion: 2.5, outputPerMillion: 10 }',
      'gpt-4o: { inputPerMillion: 2, outputPerMillion: 8 }',
    );
    await writeFile(path, text);
    const files = await readPlatformFiles(scenario('steady-chat'), {
      tenants: undefined,
      prices: path,
    });
    assert.deepEqual(files.prices, { path, sha256: sha256(text), effectiveDate: '2025-01-15' });
    assert.equal(files.tenants.path, 'fixtures/tenants.yaml');
  });

  it('rejects an invalid price table', async () => {
    const path = join(dir, 'prices.yaml');
    const text = (await readFile('fixtures/prices.yaml', 'utf8')).replace(
      'perVcpuHour: 0.04048',
      'perVcpuHour: -0.04048',
    );
    await writeFile(path, text);
    const files = { tenants: undefined, prices: path };
    await assert.rejects(readPlatformFiles(scenario('steady-chat'), files), (error: unknown) => {
      assert.ok(isPriceTableError(error), String(error));
      assert.equal(
        error.message,
        `${path}: executors.worker.perVcpuHour: expected a number >= 0, received -0.04048`,
      );
      return true;
    });
  });

  it('names one tenant the file does not admit', async () => {
    const path = join(dir, 'tenants.yaml');
    await writeFile(path, await tenantsWithout(['tenant-noisy']));
    await assert.rejects(
      readPlatformFiles(scenario('steady-chat'), { tenants: path, prices: undefined }),
      (error: unknown) => {
        assert.ok(isUnadmittedTenantsError(error), String(error));
        assert.deepEqual(error.tenantIds, ['tenant-noisy']);
        assert.equal(
          error.message,
          `tenants file ${path} admits no API key of tenant tenant-noisy, which scenario ` +
            'steady-chat sends as with the keys in fixtures/demo-keys.yaml, so those requests ' +
            `would get 401; copy its entry from fixtures/tenants.yaml into ${path}, keeping ` +
            'keySha256, the sha256 of the key, or pick a scenario that sends only as tenants ' +
            'of the file',
        );
        return true;
      },
    );
  });

  it('names every tenant the file does not admit', async () => {
    const path = join(dir, 'tenants.yaml');
    await writeFile(path, await tenantsWithout(['tenant-alpha', 'tenant-noisy']));
    await assert.rejects(
      readPlatformFiles(scenario('steady-chat'), { tenants: path, prices: undefined }),
      (error: unknown) => {
        assert.ok(isUnadmittedTenantsError(error), String(error));
        assert.deepEqual(error.tenantIds, ['tenant-alpha', 'tenant-noisy']);
        assert.match(error.message, /admits no API key of tenants tenant-alpha, tenant-noisy, /);
        assert.match(error.message, /; copy their entries from fixtures\/tenants\.yaml /);
        return true;
      },
    );
  });

  it('accepts a file without a tenant the scenario does not use', async () => {
    const path = join(dir, 'tenants.yaml');
    // conv-replay sends as tenant-alpha and tenant-beta only.
    await writeFile(path, await tenantsWithout(['tenant-noisy', 'tenant-batch']));
    const files = await readPlatformFiles(scenario('conv-replay'), {
      tenants: path,
      prices: undefined,
    });
    assert.equal(files.tenants.path, path);
  });
});

describe('platformWarningsFor', () => {
  const cap: IneffectiveRunningCap = {
    tenant: 'tenant-noisy',
    maxRunning: 8,
    workerSlots: 2,
    message:
      "tenant tenant-noisy has maxRunning 8, at or above the platform's 2 worker slots, so " +
      'the cap never holds back a task; set it below 2 in fixtures/tenants.yaml, or remove it',
  };
  const platform = { warnings: ['budget warning', cap.message], runningCaps: [cap] };

  it('drops a cap of a tenant that sends no async task', () => {
    assert.deepEqual(platformWarningsFor(scenario('steady-chat'), platform, undefined), [
      'budget warning',
    ]);
  });

  it('adds the --tenants fix on the default file', () => {
    assert.deepEqual(platformWarningsFor(scenario('noisy-hold'), platform, undefined), [
      'budget warning',
      `${cap.message}, or pass an edited copy of that file with --tenants to change it for ` +
        'this load run only',
    ]);
  });

  it('keeps a cap as is with --tenants', () => {
    assert.deepEqual(platformWarningsFor(scenario('noisy-hold'), platform, 'mine.yaml'), [
      'budget warning',
      cap.message,
    ]);
  });
});

describe('checkScenarioRoutes', () => {
  const policy = 'version: 1\nroutes:\n  chat: {}\n  chat-fast: {}\n  summarize: {}\n';

  function routed(routes: string[]): ScenarioSpec {
    return { ...scenario('steady-chat'), routes: routes.map((route) => ({ route, weight: 1 })) };
  }

  function messageOf(spec: ScenarioSpec, text = policy): string {
    try {
      checkScenarioRoutes(spec, text, 'trial-policy.yaml');
    } catch (error) {
      assert.ok(isUsageError(error));
      return error.message;
    }
    assert.fail('expected a UsageError');
  }

  it('accepts routes the policy defines', () => {
    assert.doesNotThrow(() => checkScenarioRoutes(routed(['chat', 'summarize']), policy, 'p'));
  });

  it('accepts the shipped scenarios', async () => {
    const text = await readFile('policies/default.yaml', 'utf8');
    for (const spec of Object.values(SCENARIOS)) {
      assert.doesNotThrow(() => checkScenarioRoutes(spec, text, 'policies/default.yaml'));
    }
  });

  it('names an unknown route and the fix', () => {
    assert.equal(
      messageOf(routed(['chat', 'chat-fastest'])),
      'scenario steady-chat: routes[1].route is chat-fastest, which policy trial-policy.yaml ' +
        'does not define, so the gateway would answer its tasks 400 unknown_route; use one of ' +
        'chat, chat-fast, summarize in the scenario, or pass a --policy that defines chat-fastest',
    );
  });

  it('suggests a near route name', () => {
    assert.match(
      messageOf(routed(['chta'])),
      /unknown_route; did you mean chat\? Otherwise use one of/,
    );
  });

  it('leaves an unparsable policy to the platform', () => {
    assert.doesNotThrow(() => checkScenarioRoutes(routed(['x']), 'routes: [', 'p'));
  });
});
