import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { loadProviderCatalog } from '../../../src/faults/providers/index.js';
import { loadPriceTable } from '../../../src/platform/cost/index.js';
import type { PriceTableData } from '../../../src/platform/cost/price-table.js';
import { loadPolicy } from '../../../src/platform/router/index.js';
import type { Policy } from '../../../src/platform/router/policy-types.js';
import {
  type ConfigFingerprint,
  configFingerprint,
  configMismatchMessage,
  type SharedSettings,
  sameConfig,
} from '../../../src/platform/runtime/config-fingerprint.js';
import { PrefixProcesses } from '../../../src/platform/runtime/prefix-processes.js';
import { loadDemoKeys, loadTenants } from '../../../src/platform/tenants/index.js';
import type { Tenant } from '../../../src/platform/tenants/tenant.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

const SETTINGS: SharedSettings = {
  taskRetentionMs: 86_400_000,
  stallIntervalMs: 30_000,
  maxAttempts: 3,
  backoffBaseMs: 200,
  backoffMaxMs: 5_000,
  maxQueueDepth: 10_000,
  maxOldestAgeMs: 60_000,
  watermarks: { batch: 0.5, standard: 0.8 },
};

let prices: PriceTableData;

function fingerprintOf(
  tenants: readonly Tenant[],
  policy: Policy,
  options: {
    prices?: PriceTableData;
    settings?: Partial<SharedSettings>;
    workerSlots?: number;
  } = {},
): ConfigFingerprint {
  return configFingerprint(
    { file: 'tenants.yaml', tenants },
    { file: 'policies/default.yaml', policy },
    { file: 'fixtures/prices.yaml', data: options.prices ?? prices },
    { ...SETTINGS, ...options.settings },
    options.workerSlots ?? 4,
  );
}

function fakeFingerprint(tenantsSha256: string, policySha256: string): ConfigFingerprint {
  return {
    tenantsFile: 'fixtures/tenants.yaml',
    tenantsSha256,
    policyFile: 'policies/default.yaml',
    policySha256,
  };
}

describe('configFingerprint', () => {
  let tenants: readonly Tenant[];
  let policy: Policy;

  before(async () => {
    tenants = (await loadTenants()).tenants;
    policy = await loadPolicy('policies/default.yaml', await loadProviderCatalog());
    prices = (await loadPriceTable()).data;
  });

  it('ignores tenant order and key order', () => {
    const reordered = [...tenants].reverse().map((tenant) => {
      const entries = Object.entries(tenant).reverse();
      return Object.fromEntries(entries) as unknown as Tenant;
    });
    assert.deepEqual(fingerprintOf(reordered, policy), fingerprintOf(tenants, policy));
  });

  it('changes with a maxRunning', () => {
    const changed = tenants.map((tenant) =>
      tenant.maxRunning === undefined ? tenant : { ...tenant, maxRunning: tenant.maxRunning + 1 },
    );
    const before = fingerprintOf(tenants, policy);
    const after = fingerprintOf(changed, policy);
    assert.notEqual(after.tenantsSha256, before.tenantsSha256);
    assert.equal(after.policySha256, before.policySha256);
    assert.equal(sameConfig(before, after), false);
  });

  it('changes with a route deadline', () => {
    const chat = policy.routes.chat;
    assert.ok(chat !== undefined);
    const changed = { ...policy, routes: { ...policy.routes, chat: { ...chat, deadlineMs: 1 } } };
    const before = fingerprintOf(tenants, policy);
    const after = fingerprintOf(tenants, changed);
    assert.equal(after.tenantsSha256, before.tenantsSha256);
    assert.notEqual(after.policySha256, before.policySha256);
  });

  it('changes with a model price alone', () => {
    const [provider, models] = Object.entries(prices.models)[0] ?? [];
    const [model, price] = Object.entries(models ?? {})[0] ?? [];
    assert.ok(provider !== undefined);
    assert.ok(model !== undefined);
    assert.ok(price !== undefined);
    const raised = {
      ...prices,
      models: {
        ...prices.models,
        [provider]: {
          ...models,
          [model]: { ...price, inputPerMillion: price.inputPerMillion + 1 },
        },
      },
    };
    const before = fingerprintOf(tenants, policy);
    const after = fingerprintOf(tenants, policy, { prices: raised });
    assert.notEqual(after.pricesSha256, before.pricesSha256);
    assert.equal(after.tenantsSha256, before.tenantsSha256);
    assert.equal(after.policySha256, before.policySha256);
    assert.equal(sameConfig(before, after), false);
  });

  it('records the shared settings by option name', () => {
    assert.deepEqual(fingerprintOf(tenants, policy).settings, {
      '--task-retention-ms': '86400000',
      '--stall-interval-ms': '30000',
      '--max-queue-depth': '10000',
      '--max-queue-age-ms': '60000',
      '--shed-watermarks': '0.5,0.8',
      'queue.maxAttempts': '3',
      'queue.backoffBaseMs': '200',
      'queue.backoffMaxMs': '5000',
    });
  });

  it('records the worker slots without comparing them', () => {
    const small = fingerprintOf(tenants, policy, { workerSlots: 2 });
    const large = fingerprintOf(tenants, policy, { workerSlots: 24 });
    assert.equal(small.workerSlots, 2);
    assert.equal(large.workerSlots, 24);
    assert.equal(sameConfig(small, large), true);
  });

  it('differs in a setting alone', () => {
    const before = fingerprintOf(tenants, policy);
    const after = fingerprintOf(tenants, policy, { settings: { taskRetentionMs: 3_600_000 } });
    assert.equal(after.pricesSha256, before.pricesSha256);
    assert.equal(sameConfig(before, after), false);
  });

  it('compares an earlier entry by tenants and policy alone', () => {
    const own = fingerprintOf(tenants, policy);
    const { pricesFile, pricesSha256, settings, ...earlier } = fingerprintOf(tenants, policy, {
      settings: { taskRetentionMs: 1_000 },
    });
    assert.ok(pricesFile !== undefined);
    assert.ok(pricesSha256 !== undefined);
    assert.ok(settings !== undefined);
    assert.equal(sameConfig(own, earlier), true);
    assert.equal(sameConfig(earlier, own), true);
  });

  it('contains hashes, never a key', async () => {
    const fingerprint = fingerprintOf(tenants, policy);
    assert.match(fingerprint.tenantsSha256, /^[0-9a-f]{64}$/);
    assert.match(fingerprint.policySha256, /^[0-9a-f]{64}$/);
    assert.match(fingerprint.pricesSha256 ?? '', /^[0-9a-f]{64}$/);
    const stored = JSON.stringify(fingerprint);
    for (const [tenant, key] of await loadDemoKeys()) {
      assert.equal(stored.includes(key), false, `the key of ${tenant}`);
    }
  });

  it('matches across files of equal content', () => {
    const a = { ...fingerprintOf(tenants, policy), tenantsFile: '/srv/a/tenants.yaml' };
    const b = { ...fingerprintOf(tenants, policy), tenantsFile: '/srv/b/tenants.yaml' };
    assert.equal(sameConfig(a, b), true);
  });
});

describe('configMismatchMessage', () => {
  const own = fakeFingerprint('a'.repeat(64), 'b'.repeat(64));

  it('names both tenants hashes and the fix', () => {
    const other = { ...fakeFingerprint('c'.repeat(64), 'b'.repeat(64)), tenantsFile: 'x.yaml' };
    assert.equal(
      configMismatchMessage('scalegate', own, 'proc-1', other),
      `platform process proc-1 on key prefix scalegate runs with tenants x.yaml content_sha256=${'c'.repeat(12)} where this process has fixtures/tenants.yaml content_sha256=${'a'.repeat(12)}, so limits such as maxRunning can depend on which process takes a request or runs a task; restart every process on the prefix with the same --tenants file`,
    );
  });

  it('names a differing policy alone', () => {
    const message = configMismatchMessage(
      'p',
      own,
      'proc-2',
      fakeFingerprint('a'.repeat(64), 'd'.repeat(64)),
    );
    assert.match(
      message,
      /runs with route policy policies\/default\.yaml content_sha256=d{12} where/,
    );
    assert.match(message, /this process has policies\/default\.yaml content_sha256=b{12}, so/);
    assert.doesNotMatch(message, /tenants fixtures/);
  });

  it('names a differing price table', () => {
    const withPrices = { ...own, pricesFile: 'fixtures/prices.yaml', pricesSha256: 'e'.repeat(64) };
    const other = { ...withPrices, pricesFile: '/srv/prices.yaml', pricesSha256: 'f'.repeat(64) };
    assert.equal(
      configMismatchMessage('p', withPrices, 'proc-4', other),
      `platform process proc-4 on key prefix p runs with price table /srv/prices.yaml content_sha256=${'f'.repeat(12)} where this process has fixtures/prices.yaml content_sha256=${'e'.repeat(12)}, so task costs and budget charges can depend on which process takes a request or runs a task; restart every process on the prefix with the same price table (this process read fixtures/prices.yaml)`,
    );
  });

  it('names each differing setting with both values', () => {
    const settings = {
      '--task-retention-ms': '86400000',
      '--max-queue-depth': '10000',
      '--shed-watermarks': '0.5,0.8',
      'queue.maxAttempts': '3',
    };
    const other = {
      ...own,
      settings: { ...settings, '--task-retention-ms': '3600000', 'queue.maxAttempts': '5' },
    };
    assert.equal(
      configMismatchMessage('p', { ...own, settings }, 'proc-5', other),
      'platform process proc-5 on key prefix p runs with --task-retention-ms=3600000 and queue.maxAttempts=5 where this process has --task-retention-ms=86400000 and queue.maxAttempts=3, so how long task and cost records stay and retries can depend on which process takes a request or runs a task; restart every process on the prefix with the same --task-retention-ms and queue.maxAttempts',
    );
  });

  it('names a setting only when both record it', () => {
    const other = { ...own, settings: { '--max-queue-depth': '500' } };
    const mine = { ...own, settings: { '--task-retention-ms': '1000' } };
    assert.equal(sameConfig(mine, other), true);
  });

  it('names both parts when both differ', () => {
    const other = fakeFingerprint('c'.repeat(64), 'd'.repeat(64));
    const message = configMismatchMessage('p', own, 'proc-3', other);
    assert.match(
      message,
      /content_sha256=c{12} where this process has .* content_sha256=a{12}, and route policy/,
    );
    assert.match(message, /so limits such as maxRunning and routes can depend/);
    assert.match(message, /with the same --tenants file and --policy file$/);
  });
});

describe('PrefixProcesses', function () {
  this.timeout(20_000);
  const keyPrefix = `test-prefix-processes-${randomUUID()}`;
  const key = `${keyPrefix}:processes`;
  const opened: PrefixProcesses[] = [];
  let redis: Redis;

  function open(processId: string, fingerprint: ConfigFingerprint, leaseMs = 3000) {
    const renewals: ReadonlyMap<string, ConfigFingerprint>[] = [];
    const processes = new PrefixProcesses({
      redisUrl: REDIS_URL,
      keyPrefix,
      processId,
      fingerprint,
      leaseMs,
      onRenewed: (others) => renewals.push(others),
    });
    opened.push(processes);
    return { processes, renewals };
  }

  before(() => {
    redis = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    for (const processes of opened.splice(0)) await processes.close();
    await redis.del(key);
  });

  after(async () => {
    await redis.quit();
  });

  it('returns the processes already running', async () => {
    const first = fakeFingerprint('a'.repeat(64), 'b'.repeat(64));
    const second = fakeFingerprint('c'.repeat(64), 'b'.repeat(64));
    assert.equal((await open('one', first).processes.start()).size, 0);
    const others = await open('two', second).processes.start();
    assert.deepEqual([...others], [['one', first]]);
  });

  it('deletes the entry on close', async () => {
    const { processes } = open('one', fakeFingerprint('a'.repeat(64), 'b'.repeat(64)));
    await processes.start();
    assert.equal(await redis.hexists(key, 'one'), 1);
    await processes.close();
    assert.equal(await redis.exists(key), 0);
  });

  it('drops an expired entry', async () => {
    // An entry whose expiry has passed, as a killed process leaves once its lease ran out.
    const [seconds] = await redis.time();
    const expired = `${Number(seconds) * 1000 - 1} ${JSON.stringify(fakeFingerprint('e', 'f'))}`;
    await redis.hset(key, 'killed', expired);
    const others = await open('one', fakeFingerprint('a', 'b')).processes.start();
    assert.equal(others.size, 0);
    assert.equal(await redis.hexists(key, 'killed'), 0);
  });

  it('expires the hash after the lease', async () => {
    await open('one', fakeFingerprint('a', 'b'), 3000).processes.start();
    const ttlMs = await redis.pttl(key);
    assert.ok(ttlMs > 0, `pttl ${ttlMs}`);
    assert.ok(ttlMs <= 3000, `pttl ${ttlMs}`);
  });

  it('reports a later process on renewal', async () => {
    const first = open('one', fakeFingerprint('a', 'b'), 300);
    await first.processes.start();
    const later = fakeFingerprint('c', 'b');
    await open('two', later, 300).processes.start();
    const deadline = Date.now() + 5000;
    while (first.renewals.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual([...(first.renewals.at(-1) ?? [])], [['two', later]]);
  });

  it('returns the price table and settings of an entry', async () => {
    const first = {
      ...fakeFingerprint('a', 'b'),
      pricesFile: 'fixtures/prices.yaml',
      pricesSha256: 'c',
      settings: { '--task-retention-ms': '1000' },
      workerSlots: 6,
    };
    await open('one', first).processes.start();
    const others = await open('two', fakeFingerprint('a', 'b')).processes.start();
    assert.deepEqual(others.get('one'), first);
  });

  it('skips invalid settings and slots', async () => {
    const [seconds] = await redis.time();
    const entry = {
      ...fakeFingerprint('a', 'b'),
      settings: { '--task-retention-ms': 1000 },
      workerSlots: -1,
    };
    await redis.hset(key, 'odd', `${Number(seconds) * 1000 + 60_000} ${JSON.stringify(entry)}`);
    const others = await open('one', fakeFingerprint('a', 'b')).processes.start();
    assert.deepEqual(others.get('odd'), fakeFingerprint('a', 'b'));
  });

  it('skips an entry that is no fingerprint', async () => {
    const [seconds] = await redis.time();
    await redis.hset(key, 'odd', `${Number(seconds) * 1000 + 60_000} {"version":9}`);
    const others = await open('one', fakeFingerprint('a', 'b')).processes.start();
    assert.equal(others.size, 0);
  });

  it('rejects a lease below 3 ms', () => {
    assert.throws(
      () =>
        new PrefixProcesses({
          redisUrl: REDIS_URL,
          keyPrefix,
          processId: 'one',
          fingerprint: fakeFingerprint('a', 'b'),
          leaseMs: 2,
          onRenewed: () => undefined,
        }),
      { name: 'RangeError', message: 'leaseMs must be an integer >= 3, got 2' },
    );
  });
});
