import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';

import {
  type OrphanedSyncTask,
  RedisSyncTaskOwners,
} from '../../../src/platform/runtime/sync-task-owners.js';
import { OwnRedisServer } from '../../support/redis-server.js';

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

    assert.deepEqual(orphans, [{ taskId: 'task-1', tenantId: 'tenant-a', owner: lost.instanceId }]);
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

  it('deletes own entries of dropped tasks', async () => {
    const orphans: OrphanedSyncTask[] = [];
    const owners = await startOwners(orphans);
    await owners.hold('tenant-a', 'task-held');
    // An entry of this process that no running task holds, as a failed drop leaves it.
    await redis.hset(`${keyPrefix}:sync-owners`, 'task-stale', `${owners.instanceId} tenant-a`);

    assert.equal(await owners.sweep(), 0);

    assert.deepEqual(orphans, []);
    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-stale'), 0);
    assert.equal(await redis.hexists(`${keyPrefix}:sync-owners`, 'task-held'), 1);
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
