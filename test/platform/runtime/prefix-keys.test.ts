import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { deleteKeysUnder, hasKeysUnder } from '../../../src/platform/runtime/prefix-keys.js';

describe('keys under a key prefix, on Redis', () => {
  let redis: Redis;
  let base: string;

  beforeEach(() => {
    redis = new Redis('redis://127.0.0.1:6379');
    base = `test-prefix-keys-${randomUUID()}`;
  });

  afterEach(async () => {
    const left = await redis.keys(`${base}*`);
    if (left.length > 0) await redis.del(...left);
    await redis.quit();
  });

  it('deletes only its own prefix', async () => {
    await redis.set(`${base}:tasks:meta`, '1');
    await redis.set(`${base}0:tasks:meta`, '1');
    await redis.set(`${base}-b:store:task`, '1');

    await deleteKeysUnder(redis, base);

    assert.equal(await redis.exists(`${base}:tasks:meta`), 0);
    assert.equal(await redis.exists(`${base}0:tasks:meta`), 1);
    assert.equal(await redis.exists(`${base}-b:store:task`), 1);
  });

  it('matches wildcards in the prefix literally', async () => {
    await redis.set(`${base}*:tasks:meta`, '1');
    await redis.set(`${base}x:tasks:meta`, '1');

    await deleteKeysUnder(redis, `${base}*`);

    assert.equal(await redis.exists(`${base}*:tasks:meta`), 0);
    assert.equal(await redis.exists(`${base}x:tasks:meta`), 1);
  });

  it('finds a key under the prefix', async () => {
    await redis.set(`${base}0:tasks:meta`, '1');
    assert.equal(await hasKeysUnder(redis, base), false);

    await redis.set(`${base}:admission:tenant`, '1');
    assert.equal(await hasKeysUnder(redis, base), true);
  });

  it('skips the excepted key', async () => {
    await redis.set(`${base}:start-claim`, '1');
    assert.equal(await hasKeysUnder(redis, base, `${base}:start-claim`), false);

    await redis.set(`${base}:tasks:meta`, '1');
    assert.equal(await hasKeysUnder(redis, base, `${base}:start-claim`), true);
    await deleteKeysUnder(redis, base, `${base}:start-claim`);

    assert.equal(await redis.exists(`${base}:tasks:meta`), 0);
    assert.equal(await redis.exists(`${base}:start-claim`), 1);
  });
});
