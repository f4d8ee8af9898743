import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadProviderCatalog } from '../../../src/faults/providers/index.js';

import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import { loadPolicy } from '../../../src/platform/router/index.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { estimateTokens } from '../../../src/platform/runtime/admission-gate.js';
import type { AttemptRecord } from '../../../src/platform/task.js';
import { hashApiKey } from '../../../src/platform/tenants/api-key.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { getJson, postTask, scrape, setFaults, waitFor } from './platform-support.js';

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
    await platform.stop({ drainTimeoutMs: 500, purge: true });
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

describe('budget checked before each provider call, on the embedded platform', () => {
  let platform: Platform;
  let dir: string;
  const key = `sk-test-${randomUUID()}`;
  const request = { route: 'chat', maxOutputTokens: 8, forcedOutputTokens: 8, mode: 'sync' };

  before(async function () {
    this.timeout(30_000);
    // The budget equals the reservation of one task, so any spent token leaves no room
    // for a retry.
    const prices = await loadPriceTable();
    const policy = await loadPolicy('policies/default.yaml', await loadProviderCatalog());
    const tokens = estimateTokens({ ...request, mode: 'sync', priority: 'standard' });
    const budgetUsd = prices.maxTokenCostUsd(
      policy.routes.chat?.candidates ?? [],
      tokens.inputTokens,
      tokens.outputTokens,
    );
    dir = await mkdtemp(join(tmpdir(), 'scalegate-budget-'));
    const tenantsPath = join(dir, 'tenants.yaml');
    await writeFile(
      tenantsPath,
      [
        'tenants:',
        '  - id: tenant-tight',
        `    keySha256: ${hashApiKey(key)}`,
        '    tier: standard',
        '    requestsPerMinute: 100',
        '    tokensPerMinute: 100000',
        '    maxInFlight: 5',
        `    budgetUsd: ${budgetUsd}`,
        '',
      ].join('\n'),
    );
    platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: '',
      tenantsPath,
    });
  });

  after(async () => {
    await platform.stop({ drainTimeoutMs: 200 });
    await rm(dir, { recursive: true, force: true });
  });

  it('stops a retry the budget does not cover', async function () {
    this.timeout(20_000);
    for (const url of Object.values(platform.urls.providers)) {
      await setFaults(url, { streamCutAfterTokens: 4 });
    }
    const reply = await postTask(platform.urls.gateway, key, request);
    const error = reply.json.error as { code: string; message: string };
    assert.equal(reply.status, 429);
    assert.equal(reply.headers['retry-after'], '60');
    assert.equal(error.code, 'budget_exhausted');
    assert.match(error.message, /raise budgetUsd in the tenants file/);
    // One provider call was made and charged; its retry was not.
    const metrics = await scrape(platform.urls.gateway);
    const calls = metrics
      .split('\n')
      .filter((line) => line.startsWith('scalegate_provider_attempts_total{'))
      .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
    assert.equal(calls, 1);
    await waitFor(async () => (await platform.ledger.summary()).tasks === 1, 5_000);
    const spent = (await platform.ledger.summary()).byTenant['tenant-tight']?.totalUsd ?? 0;
    assert.ok(spent > 0, `spent ${spent}`);
  });
});
