import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { Redis } from 'ioredis';
import { request as undiciRequest } from 'undici';

const CHILD = fileURLToPath(new URL('./gateway-child.ts', import.meta.url));
const TENANT_KEY = `sk-limited-${randomUUID()}`;

function startChild(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('gateway child did not start in 20 s')),
      20_000,
    );
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve({ child, url: (message as { url: string }).url });
    });
    child.once('exit', (code) => reject(new Error(`gateway child exited with ${code}`)));
  });
}

async function post(url: string): Promise<{ status: number; retryAfter: string | undefined }> {
  const response = await undiciRequest(`${url}/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ route: 'default', maxOutputTokens: 8, mode: 'async' }),
  });
  await response.body.dump();
  const retryAfter = response.headers['retry-after'];
  return {
    status: response.statusCode,
    retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
  };
}

describe('two gateway processes', () => {
  const prefix = `test:two-gateways:${randomUUID()}:`;
  const children: ChildProcess[] = [];

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.send('stop');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const redis = new Redis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('admits exactly 100 of 1,000 requests at 100 per minute', async function () {
    this.timeout(60_000);
    const env = { ADMISSION_PREFIX: prefix, FROZEN_NOW: String(Date.now()), TENANT_KEY };
    const started = await Promise.all([startChild(env), startChild(env)]);
    children.push(...started.map((entry) => entry.child));
    const urls = started.map((entry) => entry.url);
    const results: { status: number; retryAfter: string | undefined }[] = [];
    for (let batch = 0; batch < 20; batch += 1) {
      const sends = Array.from({ length: 50 }, (_, index) => post(urls[index % 2] ?? ''));
      results.push(...(await Promise.all(sends)));
    }
    const admitted = results.filter((result) => result.status === 202);
    const rejected = results.filter((result) => result.status === 429);
    assert.equal(results.length, 1_000);
    assert.equal(admitted.length, 100);
    assert.equal(rejected.length, 900);
    assert.equal(
      rejected.every((result) => Number(result.retryAfter) >= 1),
      true,
    );
  });
});
