import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import type { AttemptRecord } from '../../../src/platform/task.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { getJson, postTask, setFaults, waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('cost of an async task the queue retried, on Redis with a worker process', () => {
  let platform: Platform;
  let key: string;

  before(async function () {
    this.timeout(30_000);
    key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    platform = await startPlatform({
      topology: 'workers=2 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix: `test-retry-cost-${randomUUID()}`,
      workerProcesses: 1,
      queue: { maxAttempts: 3, backoffBaseMs: 20, backoffMaxMs: 50 },
    });
  });

  after(async function () {
    this.timeout(20_000);
    await platform.purge();
    await platform.stop({ drainTimeoutMs: 500 });
  });

  it('charges each cut delivery', async function () {
    this.timeout(30_000);
    // Every attempt streams 2 tokens and then loses its connection.
    for (const url of Object.values(platform.urls.providers)) {
      await setFaults(url, { streamCutAfterTokens: 2 });
    }
    const reply = await postTask(platform.urls.gateway, key, {
      route: 'chat',
      maxOutputTokens: 8,
      forcedOutputTokens: 8,
      mode: 'async',
    });
    assert.equal(reply.status, 202);
    const id = String(reply.json.id);
    await waitFor(
      async () => (await platform.store.getById(id))?.state === 'dead_lettered',
      20_000,
    );

    const record = await platform.store.getById(id);
    assert.equal(record?.deliveries, 3);
    // The last delivery's attempts are on the record; the two before it failed alike.
    const prices = await loadPriceTable();
    const attempts: AttemptRecord[] = record?.error?.attempts ?? [];
    let lastDeliveryUsd = 0;
    for (const attempt of attempts) {
      assert.equal(attempt.usage?.outputTokens, 2);
      lastDeliveryUsd += prices.priceTokens(attempt.provider, attempt.model, attempt.usage);
    }
    assert.ok(lastDeliveryUsd > 0, 'the last delivery streamed billed tokens');
    assert.ok(Math.abs((record?.costUsd ?? 0) - 3 * lastDeliveryUsd) < 1e-12);

    const view = await getJson(`${platform.urls.gateway}/v1/tasks/${id}`, key);
    assert.equal(view.costUsd, record?.costUsd);
    await waitFor(async () => (await platform.ledger.summary()).tasks === 1, 5_000);
    const summary = await platform.ledger.summary();
    assert.ok(Math.abs(summary.totalUsd - 3 * lastDeliveryUsd) < 1e-12);
  });
});
