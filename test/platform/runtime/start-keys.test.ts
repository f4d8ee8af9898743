import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import FakeTimers from '@sinonjs/fake-timers';
import { Redis } from 'ioredis';

import {
  recordStartKeys,
  START_CLAIM_TTL_MS,
  type StartKeys,
  startClaimKey,
} from '../../../src/platform/runtime/start-keys.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('recordStartKeys on Redis', () => {
  let redis: Redis;
  let keyPrefix: string;

  beforeEach(() => {
    redis = new Redis(REDIS_URL);
    keyPrefix = `test-start-keys-${randomUUID()}`;
  });

  afterEach(async () => {
    const left = await redis.keys(`${keyPrefix}:*`);
    if (left.length > 0) await redis.del(...left);
    await redis.quit();
  });

  /** Records two starts on `keyPrefix` at once, returning the claim's owner first. */
  async function recordTwoStarts(): Promise<{ owner: StartKeys; joiner: StartKeys }> {
    const starts = await Promise.all([
      recordStartKeys(REDIS_URL, keyPrefix, false),
      recordStartKeys(REDIS_URL, keyPrefix, false),
    ]);
    const owners = starts.filter((start) => !start.hadKeys);
    assert.equal(owners.length, 1, 'not exactly one start found the prefix new');
    const [owner] = owners;
    const joiner = starts.find((start) => start !== owner);
    assert.ok(owner !== undefined, 'no start found the prefix new');
    assert.ok(joiner !== undefined, 'no start joined the claim');
    return { owner, joiner };
  }

  it('removes the keys of a lone failed start', async () => {
    const start = await recordStartKeys(REDIS_URL, keyPrefix, false);
    assert.equal(start.hadKeys, false);
    assert.equal(await redis.exists(startClaimKey(keyPrefix)), 1);
    await redis.set(`${keyPrefix}:store:task:own`, '1');

    await start.removeCreated();

    assert.deepEqual(await redis.keys(`${keyPrefix}:*`), []);
  });

  it('counts a used prefix as used', async () => {
    await redis.set(`${keyPrefix}:store:task:earlier`, '1');
    const start = await recordStartKeys(REDIS_URL, keyPrefix, false);
    assert.equal(start.hadKeys, true);

    await start.removeCreated();

    assert.equal(await redis.get(`${keyPrefix}:store:task:earlier`), '1');
    assert.equal(await redis.exists(startClaimKey(keyPrefix)), 0, 'the claim is left');
  });

  it('keeps a concurrent start when the owner fails', async () => {
    const { owner, joiner } = await recordTwoStarts();
    // Both starts write keys after their checks, as the platform's drivers do.
    await redis.set(`${keyPrefix}:store:task:owner`, '1');
    await redis.set(`${keyPrefix}:store:task:joiner`, '1');

    await owner.removeCreated();

    assert.equal(await redis.get(`${keyPrefix}:store:task:joiner`), '1');
    assert.equal(await redis.get(`${keyPrefix}:store:task:owner`), '1');
    assert.equal(await redis.exists(startClaimKey(keyPrefix)), 1, 'the joiner lost its claim');
    await joiner.release();
    assert.equal(await redis.exists(startClaimKey(keyPrefix)), 0, 'the claim is left');
  });

  it('keeps the owner when a concurrent start fails', async () => {
    const { owner, joiner } = await recordTwoStarts();
    await redis.set(`${keyPrefix}:store:task:owner`, '1');
    await redis.set(`${keyPrefix}:store:task:joiner`, '1');

    await joiner.removeCreated();
    await owner.release();

    assert.equal(await redis.get(`${keyPrefix}:store:task:owner`), '1');
    assert.equal(await redis.get(`${keyPrefix}:store:task:joiner`), '1');
    assert.equal(await redis.exists(startClaimKey(keyPrefix)), 0, 'the claim is left');
  });

  it('keeps a start that joined before the failure', async () => {
    const owner = await recordStartKeys(REDIS_URL, keyPrefix, false);
    await redis.set(`${keyPrefix}:store:task:owner`, '1');
    const joiner = await recordStartKeys(REDIS_URL, keyPrefix, false);
    assert.equal(joiner.hadKeys, true);
    // The joiner has not written a key yet when the owner fails.
    await owner.removeCreated();
    await redis.set(`${keyPrefix}:store:task:joiner`, '1');

    assert.equal(await redis.get(`${keyPrefix}:store:task:owner`), '1');
    assert.equal(await redis.get(`${keyPrefix}:store:task:joiner`), '1');
    await joiner.release();
  });

  it('waits for a removal in progress', async () => {
    // Another process's failed start is deleting the keys under the prefix.
    const claim = startClaimKey(keyPrefix);
    await redis.hset(claim, { owner: 'other', starts: 1, 'start:other': 1, cleaning: 1 });
    await redis.pexpire(claim, START_CLAIM_TTL_MS);
    await redis.set(`${keyPrefix}:store:task:other`, '1');
    let recorded = false;
    const start = recordStartKeys(REDIS_URL, keyPrefix, false).then((keys) => {
      recorded = true;
      return keys;
    });

    await sleep(300);
    assert.equal(recorded, false, 'the start did not wait for the removal');
    await redis.del(`${keyPrefix}:store:task:other`, claim);
    const keys = await start;

    assert.equal(keys.hadKeys, false);
    await keys.release();
    assert.equal(await redis.exists(claim), 0, 'the claim is left');
  });

  it('releases the claim of a start that succeeded', async () => {
    const start = await recordStartKeys(REDIS_URL, keyPrefix, false);
    await redis.set(`${keyPrefix}:tasks:meta`, '1');

    await start.release();

    assert.equal(await redis.exists(startClaimKey(keyPrefix)), 0, 'the claim is left');
    const next = await recordStartKeys(REDIS_URL, keyPrefix, false);
    assert.equal(next.hadKeys, true);
    await next.release();
  });

  it('renews the claim while registered', async () => {
    // Only the renewal interval is fake, so Redis replies in real time.
    const clock = FakeTimers.install({ toFake: ['setInterval', 'clearInterval'] });
    const claim = startClaimKey(keyPrefix);
    try {
      const start = await recordStartKeys(REDIS_URL, keyPrefix, false);
      await redis.pexpire(claim, 1000);

      clock.tick(START_CLAIM_TTL_MS / 3);
      const renewedBy = Date.now() + 1000;
      while ((await redis.pttl(claim)) <= 1000 && Date.now() < renewedBy) await sleep(20);

      assert.ok((await redis.pttl(claim)) > 1000, 'the claim was not renewed');
      await start.release();
      assert.equal(await redis.exists(claim), 0, 'the claim is left');
    } finally {
      clock.uninstall();
    }
  });

  it('claims no generated prefix', async () => {
    const start = await recordStartKeys(REDIS_URL, keyPrefix, true);
    assert.equal(start.hadKeys, false);
    assert.equal(await redis.exists(startClaimKey(keyPrefix)), 0);
    await redis.set(`${keyPrefix}:store:task:own`, '1');

    await start.removeCreated();

    assert.deepEqual(await redis.keys(`${keyPrefix}:*`), []);
  });
});
