import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** Wall time the bill runs for before it is read, in ms; timers may fire a little early. */
const BILLED_MS = 600;

/**
 * Bills the pool for about BILLED_MS and returns the bill with the shortest and longest
 * time it can cover, read on the clock the platform bills by.
 */
async function billFor(platform: Platform): Promise<{ usd: number; minMs: number; maxMs: number }> {
  const before = performance.now();
  platform.startWorkerPoolBill();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, BILLED_MS));
  const ended = performance.now();
  const usd = platform.workerPoolUsd();
  const after = performance.now();
  return { usd, minMs: ended - started, maxMs: after - before };
}

describe('worker pool bill', function () {
  this.timeout(30_000);

  it('bills every slot of an odd split', async () => {
    // Two worker processes of ceil(3 / 2) = 2 tasks each run 4 tasks at once.
    const platform = await startPlatform({
      topology: 'workers=3 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix: `test-pool-bill-${randomUUID()}`,
      faultProxy: false,
    });
    try {
      const prices = await loadPriceTable();
      const { usd, minMs, maxMs } = await billFor(platform);
      assert.ok(usd >= prices.workerPoolUsd(4, minMs), `bill ${usd}`);
      assert.ok(usd <= prices.workerPoolUsd(4, maxMs), `bill ${usd}`);
      assert.ok(usd > prices.workerPoolUsd(3, maxMs), `bill ${usd}`);
    } finally {
      await platform.stop({ purge: true });
    }
  });

  it('bills the workers in memory', async () => {
    const platform = await startPlatform({
      topology: 'workers=3 serverless_burst=disabled',
      redisUrl: '',
      faultProxy: false,
    });
    try {
      const prices = await loadPriceTable();
      const { usd, minMs, maxMs } = await billFor(platform);
      assert.ok(usd >= prices.workerPoolUsd(3, minMs), `bill ${usd}`);
      assert.ok(usd <= prices.workerPoolUsd(3, maxMs), `bill ${usd}`);
    } finally {
      await platform.stop();
    }
  });
});
