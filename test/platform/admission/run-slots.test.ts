import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';

import {
  MemoryRunSlots,
  RedisRunSlots,
  type RunSlots,
} from '../../../src/platform/admission/run-slots.js';

const LONG_LEASE_MS = 60_000;

/** Registers the tests every RunSlots implementation passes. */
function describeRunSlots(
  name: string,
  create: () => Promise<RunSlots>,
  cleanup: () => Promise<void>,
) {
  describe(`${name} (running slots)`, () => {
    let slots: RunSlots;

    beforeEach(async () => {
      slots = await create();
    });

    afterEach(async () => {
      await cleanup();
    });

    it('takes slots up to the cap', async () => {
      assert.equal(await slots.acquire('tenant-a', 'task-1', 2, LONG_LEASE_MS), true);
      assert.equal(await slots.acquire('tenant-a', 'task-2', 2, LONG_LEASE_MS), true);
      assert.equal(await slots.acquire('tenant-a', 'task-3', 2, LONG_LEASE_MS), false);
      assert.equal(await slots.running('tenant-a'), 2);
    });

    it('frees a slot on release', async () => {
      await slots.acquire('tenant-a', 'task-1', 1, LONG_LEASE_MS);
      await slots.release('tenant-a', 'task-1');
      assert.equal(await slots.acquire('tenant-a', 'task-2', 1, LONG_LEASE_MS), true);
      assert.equal(await slots.running('tenant-a'), 1);
    });

    it('lets a holder take its slot again', async () => {
      assert.equal(await slots.acquire('tenant-a', 'task-1', 1, LONG_LEASE_MS), true);
      assert.equal(await slots.acquire('tenant-a', 'task-1', 1, LONG_LEASE_MS), true);
      assert.equal(await slots.running('tenant-a'), 1);
    });

    it('frees a slot when its lease ends', async () => {
      assert.equal(await slots.acquire('tenant-a', 'task-1', 1, 100), true);
      assert.equal(await slots.acquire('tenant-a', 'task-2', 1, LONG_LEASE_MS), false);
      await sleep(200);
      assert.equal(await slots.running('tenant-a'), 0);
      assert.equal(await slots.acquire('tenant-a', 'task-2', 1, LONG_LEASE_MS), true);
    });

    it('keeps tenants apart', async () => {
      assert.equal(await slots.acquire('tenant-a', 'task-1', 1, LONG_LEASE_MS), true);
      assert.equal(await slots.acquire('tenant-b', 'task-2', 1, LONG_LEASE_MS), true);
      assert.equal(await slots.running('tenant-b'), 1);
    });

    it('ignores the release of a free slot', async () => {
      await slots.release('tenant-a', 'task-9');
      assert.equal(await slots.running('tenant-a'), 0);
    });

    it('rejects an invalid cap or lease', async () => {
      await assert.rejects(slots.acquire('tenant-a', 'task-1', 0, 1000), /invalid running cap 0/);
      await assert.rejects(slots.acquire('tenant-a', 'task-1', 1.5, 1000), /invalid running cap/);
      await assert.rejects(slots.acquire('tenant-a', 'task-1', 1, 0), /invalid slot lease 0 ms/);
    });

    it('grants the cap once to concurrent takers', async () => {
      const granted = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          slots.acquire('tenant-a', `task-${index}`, 3, LONG_LEASE_MS),
        ),
      );
      assert.equal(granted.filter(Boolean).length, 3);
    });
  });
}

describeRunSlots(
  'MemoryRunSlots',
  async () => new MemoryRunSlots(),
  async () => undefined,
);

describe('RedisRunSlots on 127.0.0.1:6379', () => {
  let redis: Redis;
  let other: Redis;
  let prefix: string;

  before(() => {
    redis = new Redis(6379, '127.0.0.1');
    other = new Redis(6379, '127.0.0.1');
  });

  after(async () => {
    await redis.quit();
    await other.quit();
  });

  async function deleteKeys(): Promise<void> {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }

  describeRunSlots(
    'RedisRunSlots',
    async () => {
      prefix = `test:run-slots:${randomUUID()}:`;
      return new RedisRunSlots(redis, prefix);
    },
    deleteKeys,
  );

  it('shares slots between connections', async () => {
    prefix = `test:run-slots:${randomUUID()}:`;
    try {
      const first = new RedisRunSlots(redis, prefix);
      const second = new RedisRunSlots(other, prefix);
      const granted = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          (index % 2 === 0 ? first : second).acquire('tenant-a', `task-${index}`, 4, 60_000),
        ),
      );
      assert.equal(granted.filter(Boolean).length, 4);
      assert.equal(await second.running('tenant-a'), 4);
    } finally {
      await deleteKeys();
    }
  });

  it('expires the tenant key with the last lease', async () => {
    prefix = `test:run-slots:${randomUUID()}:`;
    try {
      const slots = new RedisRunSlots(redis, prefix);
      await slots.acquire('tenant-a', 'task-1', 2, 5_000);
      const ttl = await redis.pttl(`${prefix}{tenant-a}:running`);
      assert.ok(ttl > 0, `ttl ${ttl} ms`);
      assert.ok(ttl <= 5_000, `ttl ${ttl} ms`);
    } finally {
      await deleteKeys();
    }
  });
});
