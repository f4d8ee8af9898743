import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { stringify } from 'yaml';

import { startPlatform } from '../../../src/platform/runtime.js';
import { ineffectiveRunningCaps, workerSlots } from '../../../src/platform/runtime/running-caps.js';
import type { Tenant } from '../../../src/platform/tenants/tenant.js';

function tenant(id: string, maxRunning?: number): Tenant {
  return {
    id,
    keySha256: 'a'.repeat(64),
    tier: 'standard',
    requestsPerMinute: 100,
    tokensPerMinute: 100_000,
    maxInFlight: 10,
    budgetUsd: 10,
    ...(maxRunning === undefined ? {} : { maxRunning }),
  };
}

describe('workerSlots', () => {
  it('counts in-process workers', () => {
    assert.equal(workerSlots(24, 0), 24);
  });

  it('rounds an odd split up per process', () => {
    assert.equal(workerSlots(3, 2), 4);
  });

  it('counts one process of one worker', () => {
    assert.equal(workerSlots(1, 1), 1);
  });
});

describe('ineffectiveRunningCaps', () => {
  it('names a cap equal to the slots', () => {
    const found = ineffectiveRunningCaps([tenant('tenant-a', 8)], 8, 'tenants.yaml');
    assert.deepEqual(found, [
      {
        tenant: 'tenant-a',
        maxRunning: 8,
        workerSlots: 8,
        message:
          "tenant tenant-a has maxRunning 8, at or above the platform's 8 worker slots, so the " +
          'cap never holds back a task; set it below 8 in tenants.yaml, or remove it',
      },
    ]);
  });

  it('names a cap above the slots', () => {
    const found = ineffectiveRunningCaps([tenant('tenant-a', 30)], 24, 'tenants.yaml');
    assert.deepEqual(
      found.map((entry) => [entry.tenant, entry.maxRunning, entry.workerSlots]),
      [['tenant-a', 30, 24]],
    );
  });

  it('passes a cap below the slots', () => {
    assert.deepEqual(ineffectiveRunningCaps([tenant('tenant-a', 7)], 8, 'tenants.yaml'), []);
  });

  it('passes a tenant without a cap', () => {
    assert.deepEqual(ineffectiveRunningCaps([tenant('tenant-a')], 1, 'tenants.yaml'), []);
  });

  it('advises removal with one slot', () => {
    const [found] = ineffectiveRunningCaps([tenant('tenant-a', 1)], 1, 'tenants.yaml');
    assert.equal(
      found?.message,
      "tenant tenant-a has maxRunning 1, at or above the platform's 1 worker slots, so the " +
        'cap never holds back a task; remove it from tenants.yaml, as a cap needs at least 2 ' +
        'worker slots to hold back a task',
    );
  });

  it('speaks per process on a shared prefix', () => {
    const [found] = ineffectiveRunningCaps([tenant('tenant-a', 8)], 4, 'tenants.yaml', {
      keyPrefix: 'scalegate',
      otherSlots: [],
    });
    assert.equal(found?.workerSlots, 4);
    assert.equal(
      found?.message,
      'tenant tenant-a has maxRunning 8, at or above the 4 worker slots of this platform ' +
        'process, so the cap holds back no task unless other platform processes on key prefix ' +
        "scalegate add their slots, because it counts the tenant's running tasks in all of " +
        'them; set it below the worker slots of all processes on the prefix together (4 for ' +
        'each process like this one) in tenants.yaml, or remove it',
    );
  });

  it('passes a cap below the slots on a shared prefix', () => {
    const found = ineffectiveRunningCaps([tenant('tenant-a', 3)], 4, 'tenants.yaml', {
      keyPrefix: 'scalegate',
      otherSlots: [],
    });
    assert.deepEqual(found, []);
  });

  it('adds the slots of running processes', () => {
    const [found] = ineffectiveRunningCaps([tenant('tenant-a', 9)], 4, 'tenants.yaml', {
      keyPrefix: 'scalegate',
      otherSlots: [4, 1],
    });
    assert.equal(found?.workerSlots, 9);
    assert.equal(
      found?.message,
      'tenant tenant-a has maxRunning 9, at or above the 9 worker slots of the 3 platform ' +
        'processes running on key prefix scalegate (4 in this one), so the cap holds back no ' +
        'task unless more processes join; set it below 9 in tenants.yaml, or remove it',
    );
  });

  it('passes a cap below the slots of running processes', () => {
    const found = ineffectiveRunningCaps([tenant('tenant-a', 8)], 4, 'tenants.yaml', {
      keyPrefix: 'scalegate',
      otherSlots: [4, 4],
    });
    assert.deepEqual(found, []);
  });

  it('speaks per process when a slot count is unknown', () => {
    const [found] = ineffectiveRunningCaps([tenant('tenant-a', 8)], 4, 'tenants.yaml', {
      keyPrefix: 'scalegate',
      otherSlots: [4, undefined],
    });
    assert.equal(found?.workerSlots, 4);
    assert.match(found?.message ?? '', /unless other platform processes on key prefix scalegate/);
  });

  it('names each tenant once', () => {
    const tenants = [tenant('tenant-a', 4), tenant('tenant-b'), tenant('tenant-c', 9)];
    const found = ineffectiveRunningCaps(tenants, 4, 'tenants.yaml');
    assert.deepEqual(
      found.map((entry) => entry.tenant),
      ['tenant-a', 'tenant-c'],
    );
  });
});

describe('startPlatform running caps', function () {
  this.timeout(30_000);

  it('warns of tenant-noisy at 8 workers', async () => {
    // fixtures/tenants.yaml caps tenant-noisy at 8 running tasks.
    const records: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const platform = await startPlatform({
      topology: 'workers=8 serverless_burst=disabled',
      redisUrl: '',
      faultProxy: false,
      logger: pino({ level: 'info' }, stream),
    });
    try {
      assert.equal(platform.warnings.length, 1);
      assert.match(
        platform.warnings[0] ?? '',
        /^tenant tenant-noisy has maxRunning 8, .* 8 worker slots/,
      );
      const warnings = records.filter((record) => record.level === 40);
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]?.tenant, 'tenant-noisy');
      assert.equal(warnings[0]?.maxRunning, 8);
      assert.equal(warnings[0]?.workerSlots, 8);
      assert.equal(warnings[0]?.msg, platform.warnings[0]);
    } finally {
      await platform.stop();
    }
  });

  it('speaks per process on a named Redis prefix', async () => {
    const keyPrefix = `test-running-caps-${randomUUID()}`;
    const platform = await startPlatform({
      topology: 'workers=2 serverless_burst=disabled',
      redisUrl: 'redis://127.0.0.1:6379',
      keyPrefix,
      workerProcesses: 1,
      faultProxy: false,
    });
    try {
      const [warning] = platform.warnings;
      assert.match(
        warning ?? '',
        /^tenant tenant-noisy has maxRunning 8, at or above the 2 worker slots of this platform process, /,
      );
      assert.ok(warning?.includes(`on key prefix ${keyPrefix} add their slots`), warning);
    } finally {
      await platform.stop({ purge: true });
    }
  });

  it('speaks of the platform on a private Redis prefix', async () => {
    const platform = await startPlatform({
      topology: 'workers=2 serverless_burst=disabled',
      redisUrl: 'redis://127.0.0.1:6379',
      workerProcesses: 1,
      faultProxy: false,
    });
    try {
      assert.match(
        platform.warnings[0] ?? '',
        /^tenant tenant-noisy has maxRunning 8, at or above the platform's 2 worker slots, /,
      );
    } finally {
      await platform.stop({ purge: true });
    }
  });

  it('stays quiet at 9 workers', async () => {
    const platform = await startPlatform({
      topology: 'workers=9 serverless_burst=disabled',
      redisUrl: '',
      faultProxy: false,
    });
    try {
      assert.deepEqual(platform.warnings, []);
    } finally {
      await platform.stop();
    }
  });
});

describe('startPlatform tenant warnings', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-tenant-warnings-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('logs a zero budget and an unbound cap', async () => {
    const tenantsPath = join(dir, 'tenants.yaml');
    const entries = [
      { ...tenant('tenant-free'), budgetUsd: 0 },
      { ...tenant('tenant-wide', 12), keySha256: 'b'.repeat(64) },
    ];
    await writeFile(tenantsPath, stringify({ tenants: entries }));
    const records: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const platform = await startPlatform({
      topology: 'workers=16 serverless_burst=disabled',
      redisUrl: '',
      faultProxy: false,
      tenantsPath,
      logger: pino({ level: 'info' }, stream),
    });
    try {
      assert.equal(platform.warnings.length, 2);
      assert.match(
        platform.warnings[0] ?? '',
        new RegExp(`^tenant tenant-free in ${tenantsPath}: budgetUsd is 0, `),
      );
      assert.match(
        platform.warnings[1] ?? '',
        new RegExp(
          `^tenant tenant-wide in ${tenantsPath}: maxRunning 12 is above maxInFlight 10, `,
        ),
      );
      const warnings = records.filter((record) => record.level === 40);
      assert.deepEqual(
        warnings.map(({ tenant, field, value, msg }) => ({ tenant, field, value, msg })),
        [
          { tenant: 'tenant-free', field: 'budgetUsd', value: 0, msg: platform.warnings[0] },
          { tenant: 'tenant-wide', field: 'maxRunning', value: 12, msg: platform.warnings[1] },
        ],
      );
    } finally {
      await platform.stop();
    }
  });
});
