import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';

import { Redis } from 'ioredis';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('startPlatform failing on Redis', function () {
  this.timeout(60_000);
  let redis: Redis;
  let busy: Server;
  let busyPort: number;
  let keyPrefix: string;

  beforeEach(async () => {
    redis = new Redis(REDIS_URL);
    keyPrefix = `test-failed-start-${randomUUID()}`;
    // A port in use by another server makes the gateway's listen fail after the queue started.
    busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    busyPort = (busy.address() as AddressInfo).port;
  });

  afterEach(async () => {
    busy.close();
    const left = await keysUnder(keyPrefix);
    if (left.length > 0) await redis.del(...left);
    await redis.quit();
  });

  async function keysUnder(prefix: string): Promise<string[]> {
    return redis.keys(`${prefix}:*`);
  }

  function startOnPort(port: number): Promise<Platform> {
    return startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      faultProxy: false,
      port,
    });
  }

  function startOnBusyPort(): Promise<Platform> {
    return startOnPort(busyPort);
  }

  it('leaves no keys on a new prefix', async () => {
    await assert.rejects(startOnBusyPort(), { code: 'EADDRINUSE' });

    assert.deepEqual(await keysUnder(keyPrefix), []);
  });

  it('keeps the keys of a used prefix', async () => {
    const earlier = `${keyPrefix}:store:task:earlier`;
    await redis.set(earlier, 'from an earlier run');

    await assert.rejects(startOnBusyPort(), { code: 'EADDRINUSE' });

    assert.equal(await redis.get(earlier), 'from an earlier run');
  });

  it('keeps the keys of a concurrent start', async () => {
    const [failed, started] = await Promise.allSettled([startOnBusyPort(), startOnPort(0)]);

    assert.equal(failed.status, 'rejected');
    assert.equal((failed.reason as NodeJS.ErrnoException).code, 'EADDRINUSE');
    assert.equal(started.status, 'fulfilled');
    try {
      assert.equal(await redis.exists(`${keyPrefix}:tasks:meta`), 1, 'the queue lost its keys');
      assert.equal(await redis.exists(`${keyPrefix}:start-claim`), 0, 'the claim is left');
    } finally {
      await started.value.stop({ purge: true });
    }
    assert.deepEqual(await keysUnder(keyPrefix), []);
  });
});
