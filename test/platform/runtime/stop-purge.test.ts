import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { Redis } from 'ioredis';

import { startPlatform } from '../../../src/platform/runtime.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

const CHILD = fileURLToPath(new URL('./purging-platform-child.ts', import.meta.url));

describe('Platform.stop with purge', function () {
  this.timeout(60_000);
  let redis: Redis;

  beforeEach(() => {
    redis = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    await redis.quit();
  });

  async function keysUnder(prefix: string): Promise<string[]> {
    return redis.keys(`${prefix}*`);
  }

  it('purges after the workers stopped', async () => {
    const keyPrefix = `test-stop-purge-child-${randomUUID()}`;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, PURGE_PREFIX: keyPrefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    try {
      const [code] = await once(child, 'exit');
      assert.equal(code, 0, output);
      // A worker that still held the job when its keys went away logs a failed lock renewal.
      assert.equal(output.includes('could not renew lock'), false, output);
      assert.deepEqual(await keysUnder(keyPrefix), []);
    } finally {
      child.kill('SIGKILL');
      const left = await keysUnder(keyPrefix);
      if (left.length > 0) await redis.del(...left);
    }
  });

  it('keeps the keys without purge', async () => {
    const keyPrefix = `test-stop-keep-${randomUUID()}`;
    const platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      faultProxy: false,
    });
    try {
      await platform.stop();
      assert.ok((await keysUnder(keyPrefix)).length > 0);
    } finally {
      const left = await keysUnder(keyPrefix);
      if (left.length > 0) await redis.del(...left);
    }
  });
});
