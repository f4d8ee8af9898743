import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';

import { RedisAdmissionBackend } from '../../../src/platform/admission/redis-backend.js';
import { systemClock } from '../../../src/platform/clock.js';
import {
  type OrphanedSyncTask,
  RedisSyncTaskOwners,
  startSyncTaskOwners,
} from '../../../src/platform/runtime/sync-task-owners.js';
import { RedisTaskStore } from '../../../src/platform/store/redis.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import { OwnRedisServer } from '../../support/redis-server.js';
import { waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const LEASE_MS = 600;

describe('RedisSyncTaskOwners', function () {
  this.timeout(30_000);
  let keyPrefix: string;
  let redis: Redis;
  const started: RedisSyncTaskOwners[] = [];

  /** Starts an owner record whose sweeps run only when a test calls `sweep`. */
  async function startOwners(orphans: OrphanedSyncTask[], redisUrl = REDIS_URL) {
    const owners = new RedisSyncTaskOwners({
      redisUrl,
      keyPrefix,
      leaseMs: LEASE_MS,
      sweepIntervalMs: 3_600_000,
      onOrphan: async (orphan) => {
        orphans.push(orphan);
      },
    });
    await owners.start();
    started.push(owners);
    return owners;
  }

  beforeEach(() => {
    keyPrefix = `test-sync-owners-${randomUUID()}`;
    redis = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((owners) => owners.close()));
    const keys = await redis.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('ends tasks of a lost owner', async () => {
    const orphans: OrphanedSyncTask[] = [];
    const lost = await startOwners([]);
    const survivor = await startOwners(orphans);
    await lost.hold('tenant-a', 'task-1');
    // Closing stops the renewals and deletes the lease but keeps the held task's entry,
    // as a SIGKILL leaves it once the lease expires.
    await lost.close();

    assert.equal(await survivor.sweep(), 0);
    await sleep(LEASE_MS + 100);
    assert.equal(await survivor.sweep(), 1);

    assert.deepEqual(orphans, [
      {
        taskId: 'task-1',
        tenantId: 'tenant-a',
        owner: lost.instanceId,
        leftBefore: false,
        ownerAlive: false,
      },
    ]);
    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-1'), 0);
  });

  it('keeps the entry of a task left for later', async () => {
    const seen: OrphanedSyncTask[] = [];
    const lost = await startOwners([]);
    const survivor = new RedisSyncTaskOwners({
      redisUrl: REDIS_URL,
      keyPrefix,
      leaseMs: LEASE_MS,
      sweepIntervalMs: 3_600_000,
      onOrphan: async (orphan) => {
        seen.push(orphan);
        return orphan.leftBefore ? 'ended' : 'later';
      },
    });
    await survivor.start();
    started.push(survivor);
    await lost.hold('tenant-a', 'task-1');
    await lost.close();

    await survivor.sweep();
    await sleep(LEASE_MS + 100);
    assert.equal(await survivor.sweep(), 0);
    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-1'), 1);
    // The owner is a suspect again, so its tasks come back a lease time later.
    await survivor.sweep();
    await sleep(LEASE_MS + 100);
    assert.equal(await survivor.sweep(), 1);
    assert.deepEqual(
      seen.map((orphan) => orphan.leftBefore),
      [false, true],
    );
    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-1'), 0);
  });

  it('keeps tasks of a live owner', async () => {
    const orphans: OrphanedSyncTask[] = [];
    const live = await startOwners([]);
    const other = await startOwners(orphans);
    await live.hold('tenant-a', 'task-1');

    for (let sweep = 0; sweep < 3; sweep += 1) {
      assert.equal(await other.sweep(), 0);
      await sleep(LEASE_MS / 2);
    }

    assert.deepEqual(orphans, []);
    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-1'), 1);
  });

  it('deletes the entry on drop', async () => {
    const owners = await startOwners([]);
    await owners.hold('tenant-a', 'task-1');
    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-1'), 1);

    await owners.drop('task-1');

    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-1'), 0);
  });

  it('ends own entries of unheld tasks', async () => {
    const orphans: OrphanedSyncTask[] = [];
    const owners = await startOwners(orphans);
    await owners.hold('tenant-a', 'task-held');
    // An entry of this process that no running task holds, as a failed drop leaves it.
    await redis.hset(`${keyPrefix}:sync-owners`, 'task-stale', `${owners.instanceId} tenant-a`);

    assert.equal(await owners.sweep(), 1);

    assert.deepEqual(orphans, [
      {
        taskId: 'task-stale',
        tenantId: 'tenant-a',
        owner: owners.instanceId,
        leftBefore: false,
        ownerAlive: true,
      },
    ]);
    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-stale'), 0);
    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-held'), 1);
  });

  it('keeps the entry of a forgotten task', async () => {
    const owners = await startOwners([]);
    await owners.hold('tenant-a', 'task-1');

    owners.forget('task-1');

    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-1'), 1);
  });

  it('keeps tasks through a Redis pause', async () => {
    const server = await OwnRedisServer.start();
    try {
      const orphans: OrphanedSyncTask[] = [];
      const live = await startOwners([], server.url);
      const other = await startOwners(orphans, server.url);
      await live.hold('tenant-a', 'task-1');

      // The pause outlasts the lease, and a sweep sent during it must not end the live task.
      server.pause();
      const sweepDuringPause = other.sweep();
      await sleep(LEASE_MS * 3);
      server.resume();
      assert.equal(await sweepDuringPause, 0);
      const sweeps: number[] = [];
      for (let sweep = 0; sweep < 4; sweep += 1) {
        sweeps.push(await other.sweep());
        await sleep(LEASE_MS / 2);
      }

      assert.deepEqual(sweeps, [0, 0, 0, 0]);
      assert.deepEqual(orphans, []);
    } finally {
      await Promise.all(started.splice(0).map((owners) => owners.close()));
      await server.kill();
    }
  });
});

describe('startSyncTaskOwners', function () {
  this.timeout(30_000);
  let keyPrefix: string;
  let redis: Redis;
  const started: RedisSyncTaskOwners[] = [];

  beforeEach(() => {
    keyPrefix = `test-orphan-sweep-${randomUUID()}`;
    redis = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((owners) => owners.close()));
    const keys = await redis.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('ends an orphan once for two sweepers', async () => {
    const store = new RedisTaskStore({ redis, keyPrefix: `${keyPrefix}:store` });
    const admission = new RedisAdmissionBackend({ redis, keyPrefix: `${keyPrefix}:admission:` });
    const tenant = {
      id: 'tenant-a',
      requestsPerMinute: 1000,
      tokensPerMinute: 1_000_000,
      maxInFlight: 10,
      budgetUsd: 100,
    };
    const ticketId = 'task-1';
    const admitted = await admission.admit({ tenant, tokens: 10, maxCostUsd: 0.01, ticketId });
    assert.ok(admitted.admitted);
    // A finished step of the lost run.
    await admission.charge(admitted.ticket, { run: 1, spentUsd: 0.00125 });
    const request = { route: 'chat', maxOutputTokens: 8, mode: 'async', priority: 'standard' };
    await store.create({
      id: 'task-1',
      tenantId: 'tenant-a',
      request: request as TaskRecord['request'],
      state: 'queued',
      createdAt: Date.now(),
      deliveries: 0,
    });
    // The entry of an owner that holds no lease, as a SIGKILL leaves it.
    await redis.hset(`${keyPrefix}:sync-owners`, 'task-1', 'killed-owner tenant-a');
    // The queue lookup lets both sweepers in before either goes on, so they race.
    let lookups = 0;
    let letThrough: () => void = () => undefined;
    const bothLookedUp = new Promise<void>((resolve) => {
      letThrough = resolve;
    });
    const queue = {
      hasJob: async () => {
        lookups += 1;
        if (lookups === 2) letThrough();
        await bothLookedUp;
        return false;
      },
    };
    const ended: TaskRecord[] = [];
    const wiring = {
      redisUrl: REDIS_URL,
      keyPrefix,
      leaseMs: LEASE_MS,
      store,
      admission,
      queue,
      clock: systemClock,
      onEnded: (record: TaskRecord) => ended.push(record),
    };
    started.push(await startSyncTaskOwners(wiring), await startSyncTaskOwners(wiring));

    await waitFor(
      async () => (await redis.hexists(`${keyPrefix}:sync-owners`, 'task-1')) === 0,
      10_000,
    );
    // A sweep still running is shared, so this waits for both sweepers to finish.
    await Promise.all(started.map((owners) => owners.sweep()));

    assert.equal(lookups, 2);
    assert.equal(ended.length, 1);
    assert.equal(ended[0]?.state, 'failed');
    assert.equal(ended[0]?.error?.code, 'gateway_lost');
    // The sweeper that released the ticket stored the failure with the run's charge.
    assert.equal(ended[0]?.costUsd, 0.00125);
    assert.equal((await store.getById('task-1'))?.error?.code, 'gateway_lost');
    assert.equal((await store.getById('task-1'))?.costUsd, 0.00125);
    assert.deepEqual(await admission.usage({ id: 'tenant-a' }), {
      inFlight: 0,
      reservedUsd: 0,
      spentUsd: 0.00125,
    });
  });

  it('ends own task whose end was not stored', async () => {
    const store = new RedisTaskStore({ redis, keyPrefix: `${keyPrefix}:store` });
    const admission = new RedisAdmissionBackend({ redis, keyPrefix: `${keyPrefix}:admission:` });
    const tenant = {
      id: 'tenant-a',
      requestsPerMinute: 1000,
      tokensPerMinute: 1_000_000,
      maxInFlight: 10,
      budgetUsd: 100,
    };
    const admitted = await admission.admit({
      tenant,
      tokens: 10,
      maxCostUsd: 0.01,
      ticketId: 'task-3',
    });
    assert.ok(admitted.admitted);
    // A failed attempt of the run, charged before the store stopped replying.
    await admission.charge(admitted.ticket, { run: 1, spentUsd: 0.0005 });
    const request = { route: 'chat', maxOutputTokens: 8, mode: 'sync', priority: 'standard' };
    await store.create({
      id: 'task-3',
      tenantId: 'tenant-a',
      request: request as TaskRecord['request'],
      state: 'running',
      createdAt: Date.now(),
      deliveries: 1,
    });
    const ended: TaskRecord[] = [];
    const owners = await startSyncTaskOwners({
      redisUrl: REDIS_URL,
      keyPrefix,
      leaseMs: 3_600_000,
      store,
      admission,
      queue: { hasJob: async () => false },
      clock: systemClock,
      onEnded: (record: TaskRecord) => ended.push(record),
    });
    started.push(owners);
    await owners.hold('tenant-a', 'task-3');
    // The run ended, but its end could not be stored, so the gateway forgot the task.
    owners.forget('task-3');

    assert.equal(await owners.sweep(), 1);

    assert.equal(ended.length, 1);
    assert.equal(ended[0]?.error?.code, 'store_unavailable');
    assert.match(ended[0]?.error?.message ?? '', /could not store its end/);
    assert.equal(ended[0]?.costUsd, 0.0005);
    assert.equal((await store.getById('task-3'))?.state, 'failed');
    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-3'), 0);
    assert.deepEqual(await admission.usage({ id: 'tenant-a' }), {
      inFlight: 0,
      reservedUsd: 0,
      spentUsd: 0.0005,
    });
  });

  it('ends an orphan with a closed ticket later', async () => {
    const store = new RedisTaskStore({ redis, keyPrefix: `${keyPrefix}:store` });
    const admission = new RedisAdmissionBackend({ redis, keyPrefix: `${keyPrefix}:admission:` });
    const request = { route: 'chat', maxOutputTokens: 8, mode: 'sync', priority: 'standard' };
    await store.create({
      id: 'task-2',
      tenantId: 'tenant-a',
      request: request as TaskRecord['request'],
      state: 'running',
      createdAt: Date.now(),
      deliveries: 1,
    });
    // No ticket is open under the task's id, as after a release whose process then died.
    await redis.hset(`${keyPrefix}:sync-owners`, 'task-2', 'killed-owner tenant-a');
    const ended: TaskRecord[] = [];
    const owners = await startSyncTaskOwners({
      redisUrl: REDIS_URL,
      keyPrefix,
      leaseMs: LEASE_MS,
      store,
      admission,
      queue: { hasJob: async () => false },
      clock: systemClock,
      onEnded: (record: TaskRecord) => ended.push(record),
    });
    started.push(owners);

    await waitFor(
      async () => (await redis.hexists(`${keyPrefix}:sync-owners`, 'task-2')) === 0,
      10_000,
    );
    await owners.sweep();
    assert.equal(ended.length, 1);
    assert.equal(ended[0]?.error?.code, 'gateway_lost');
    assert.equal(ended[0]?.costUsd, undefined);
    assert.equal((await store.getById('task-2'))?.state, 'failed');
  });
});
