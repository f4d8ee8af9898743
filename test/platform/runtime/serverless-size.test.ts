import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { request } from 'undici';

import { startPlatform } from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';

/**
 * Writes a copy of fixtures/prices.yaml whose serverless section is `serverless`, and
 * returns its path.
 */
async function pricesWith(dir: string, serverless: string): Promise<string> {
  const fixture = await readFile('fixtures/prices.yaml', 'utf8');
  const start = fixture.indexOf('  serverless:\n');
  assert.notEqual(start, -1, 'fixtures/prices.yaml has an executors.serverless section');
  const path = join(dir, 'prices.yaml');
  await writeFile(path, `${fixture.slice(0, start)}  serverless:\n${serverless}`);
  return path;
}

/** Runs one sync task on the `bench` route, whose model costs nothing, and returns its cost. */
async function syncBenchCost(pricesPath: string): Promise<{ costUsd: number; wallMs: number }> {
  const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
  const platform = await startPlatform({
    topology: 'workers=1 serverless_burst=enabled',
    redisUrl: '',
    pricesPath,
  });
  try {
    const started = performance.now();
    const response = await request(`${platform.urls.gateway}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'bench', maxOutputTokens: 8, mode: 'sync' }),
    });
    const body = (await response.body.json()) as { state?: string; costUsd?: number };
    const wallMs = performance.now() - started;
    assert.equal(response.statusCode, 200);
    assert.equal(body.state, 'succeeded');
    assert.equal(typeof body.costUsd, 'number');
    return { costUsd: body.costUsd ?? Number.NaN, wallMs };
  } finally {
    await platform.stop();
  }
}

describe('serverless function size from the price table', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-serverless-size-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('bills a sync task at the memory the table gives the function', async function () {
    this.timeout(20_000);
    // 1 MB at 1,024 USD per GB-second is 1 USD per second, so the cost in USD is the
    // invocation's billed time in seconds. At 1,024 MB it would be 1,024 times that.
    const path = await pricesWith(
      dir,
      '    perGbSecond: 1024\n    perMillionRequests: 0\n    memoryMbPerFunction: 1\n',
    );
    const { costUsd, wallMs } = await syncBenchCost(path);
    const billedMs = costUsd * 1000;
    assert.ok(Math.abs(billedMs - Math.round(billedMs)) < 1e-6, `billed ${billedMs} ms`);
    assert.ok(billedMs >= 1, `billed ${billedMs} ms`);
    assert.ok(billedMs <= Math.ceil(wallMs), `billed ${billedMs} ms in ${wallMs} ms`);
  });

  it('bills 1,024 MB when the table names no size', async function () {
    this.timeout(20_000);
    const path = await pricesWith(dir, '    perGbSecond: 1024\n    perMillionRequests: 0\n');
    const { costUsd, wallMs } = await syncBenchCost(path);
    // 1,024 MB at 1,024 USD per GB-second is 1.024 USD per ms.
    const billedMs = costUsd / 1.024;
    assert.ok(Math.abs(billedMs - Math.round(billedMs)) < 1e-6, `billed ${billedMs} ms`);
    assert.ok(billedMs >= 1, `billed ${billedMs} ms`);
    assert.ok(billedMs <= Math.ceil(wallMs), `billed ${billedMs} ms in ${wallMs} ms`);
  });
});
