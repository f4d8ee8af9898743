import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import type { pino } from 'pino';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { recordingLogger, waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** Returns the warn records about another process's config. */
function configWarnings(records: readonly Record<string, unknown>[]) {
  return records.filter((record) => record.level === 40 && record.otherProcess !== undefined);
}

describe('config check of processes on one key prefix', function () {
  this.timeout(60_000);
  const platforms: Platform[] = [];
  let keyPrefix: string;
  let dir: string;
  let tenantsPath: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-config-check-'));
    // The fixtures' tenants with tenant-noisy's maxRunning 8 raised to 12.
    const fixtures = await readFile('fixtures/tenants.yaml', 'utf8');
    assert.match(fixtures, /maxRunning: 8\n/);
    tenantsPath = join(dir, 'tenants.yaml');
    await writeFile(tenantsPath, fixtures.replace('maxRunning: 8\n', 'maxRunning: 12\n'));
  });

  beforeEach(() => {
    keyPrefix = `test-config-check-${randomUUID()}`;
  });

  async function start(options: {
    tenantsPath?: string;
    taskRetentionMs?: number;
    logger?: pino.Logger;
  }) {
    const platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      workerProcesses: 1,
      faultProxy: false,
      redisUrl: REDIS_URL,
      keyPrefix,
      // Entries are renewed every 100 ms, so the first process finds a later one soon.
      syncTaskLeaseMs: 300,
      ...options,
    });
    platforms.push(platform);
    return platform;
  }

  afterEach(async () => {
    const stopping = platforms.splice(0);
    for (const [index, platform] of stopping.entries()) {
      await platform.stop({ drainTimeoutMs: 500, purge: index === stopping.length - 1 });
    }
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('warns of keys an earlier version left', async () => {
    const redis = new Redis(REDIS_URL);
    const legacy = [`${keyPrefix}:cost:tasks`, `${keyPrefix}:tasks:scalegate:accepted`];
    try {
      await redis.hset(legacy[0] ?? '', 'task-1', '{}');
      await redis.sadd(legacy[1] ?? '', 'task-1');
      const { logger, records } = recordingLogger();

      const platform = await start({ logger });

      const warned = records.filter((record) => record.level === 40 && 'keys' in record);
      assert.equal(warned.length, 1);
      assert.deepEqual(warned[0]?.keys, legacy);
      const message =
        `Redis keys ${legacy.join(' and ')} hold every task's cost record or accepted id in ` +
        'the layout of an earlier scalegate version, which kept them for good; this version ' +
        'neither reads nor deletes them, so once their costs are no longer needed delete ' +
        `them with redis-cli UNLINK ${legacy.join(' ')}`;
      assert.equal(warned[0]?.msg, message);
      assert.ok(platform.warnings.includes(message), 'platform.warnings has the message');
    } finally {
      await redis.unlink(...legacy);
      await redis.quit();
    }
  });

  it('names no earlier keys on a new prefix', async () => {
    const { logger, records } = recordingLogger();

    const platform = await start({ logger });

    assert.deepEqual(
      records.filter((record) => 'keys' in record),
      [],
    );
    assert.ok(
      platform.warnings.every((warning) => !warning.includes('earlier scalegate version')),
      platform.warnings.join('\n'),
    );
  });

  it('warns of other tenants on both sides', async () => {
    const first = recordingLogger();
    await start({ logger: first.logger });
    const second = recordingLogger();
    const platform = await start({ tenantsPath, logger: second.logger });

    const warnings = configWarnings(second.records);
    assert.equal(warnings.length, 1);
    const message = String(warnings[0]?.msg);
    assert.match(message, /^platform process [0-9a-f-]{36} on key prefix test-config-check-/);
    assert.match(
      message,
      / runs with tenants fixtures\/tenants\.yaml content_sha256=[0-9a-f]{12} /,
    );
    assert.ok(message.includes(`where this process has ${tenantsPath} content_sha256=`), message);
    assert.match(message, /restart every process on the prefix with the same --tenants/);
    assert.doesNotMatch(message, /route policy/);
    assert.ok(platform.warnings.includes(message), 'platform.warnings has the message');
    const own = warnings[0]?.config as { tenantsSha256: string };
    const other = warnings[0]?.otherConfig as { tenantsSha256: string };
    assert.ok(message.includes(`content_sha256=${own.tenantsSha256.slice(0, 12)}`), message);
    assert.ok(message.includes(`content_sha256=${other.tenantsSha256.slice(0, 12)}`), message);
    assert.notEqual(own.tenantsSha256, other.tenantsSha256);

    // The first process warns too, once its next renewal finds the second.
    await waitFor(async () => configWarnings(first.records).length > 0, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const firstWarnings = configWarnings(first.records);
    assert.equal(firstWarnings.length, 1, 'one warning per process');
    assert.match(String(firstWarnings[0]?.msg), new RegExp(`runs with tenants ${tenantsPath} `));
  });

  it('stays quiet with the same files', async () => {
    const first = recordingLogger();
    await start({ logger: first.logger });
    const second = recordingLogger();
    const platform = await start({ logger: second.logger });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(configWarnings(second.records), []);
    assert.deepEqual(configWarnings(first.records), []);
    // The fixtures' maxRunning 8 at 1 worker slot gets a warning of its own.
    const configMessages = platform.warnings.filter((item) => item.startsWith('platform process'));
    assert.deepEqual(configMessages, []);
  });

  it('warns of another task retention', async () => {
    await start({});
    const second = recordingLogger();
    const platform = await start({ taskRetentionMs: 3_600_000, logger: second.logger });

    const warnings = configWarnings(second.records);
    assert.equal(warnings.length, 1);
    const message = String(warnings[0]?.msg);
    assert.match(
      message,
      / runs with --task-retention-ms=86400000 where this process has --task-retention-ms=3600000, so how long task and cost records stay can depend /,
    );
    assert.match(message, /restart every process on the prefix with the same --task-retention-ms$/);
    assert.doesNotMatch(message, /tenants|route policy|price table/);
    assert.ok(platform.warnings.includes(message), 'platform.warnings has the message');
  });

  it('counts the slots of a running process', async () => {
    await start({});
    const platform = await start({});

    // tenant-noisy's maxRunning 8 against 1 slot in each of the two processes.
    const message = platform.warnings.find((warning) => warning.startsWith('tenant tenant-noisy'));
    assert.equal(
      message,
      'tenant tenant-noisy has maxRunning 8, at or above the 2 worker slots of the 2 platform ' +
        `processes running on key prefix ${keyPrefix} (1 in this one), so the cap holds back ` +
        'no task unless more processes join; set it below 2 in fixtures/tenants.yaml, or ' +
        'remove it',
    );
  });

  it('forgets a process that stopped', async () => {
    const first = await start({});
    await first.stop({ drainTimeoutMs: 500 });
    platforms.splice(platforms.indexOf(first), 1);
    const second = recordingLogger();
    await start({ tenantsPath, logger: second.logger });
    assert.deepEqual(configWarnings(second.records), []);
  });

  it('deletes its entry when it stops', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const platform = await start({});
      assert.equal(await redis.hlen(`${keyPrefix}:processes`), 1);
      await platform.stop({ drainTimeoutMs: 500 });
      platforms.splice(platforms.indexOf(platform), 1);
      assert.equal(await redis.exists(`${keyPrefix}:processes`), 0);
    } finally {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });
});
