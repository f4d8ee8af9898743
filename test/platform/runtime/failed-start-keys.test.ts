import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';

import { Redis } from 'ioredis';

import { startFaultProxy } from '../../../src/faults/proxy/index.js';
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

  it('ends the claim when a stop fails', async () => {
    // A proxy API that fails every DELETE makes the fleet's stop of the failed start fail.
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
    const api = createHttpServer((request, response) => {
      if (request.method === 'DELETE') {
        response.writeHead(500).end('deletes fail in this test');
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = chunks.length === 0 ? undefined : Buffer.concat(chunks);
        const init = { method: request.method ?? 'GET', body };
        fetch(`${proxy.url}${request.url ?? '/'}`, init).then(
          async (reply) => response.writeHead(reply.status).end(await reply.text()),
          () => response.writeHead(502).end(),
        );
      });
    });
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    const apiPort = (api.address() as AddressInfo).port;
    try {
      const start = startPlatform({
        topology: 'workers=1 serverless_burst=disabled',
        redisUrl: REDIS_URL,
        keyPrefix,
        toxiproxyUrl: `http://127.0.0.1:${apiPort}`,
        port: busyPort,
      });
      await assert.rejects(start, { message: /500/ });

      assert.equal(await redis.exists(`${keyPrefix}:start-claim`), 0, 'the claim is left');
    } finally {
      api.close();
      await proxy.close();
    }
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
