import assert from 'node:assert/strict';

import { request as undiciRequest } from 'undici';

import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { postTask } from './platform-support.js';

async function setFaults(url: string | undefined, faults: unknown): Promise<void> {
  const response = await undiciRequest(`${url ?? ''}/_control/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  assert.equal(response.statusCode, 200);
  await response.body.dump();
}

async function clearFaults(url: string | undefined): Promise<void> {
  const response = await undiciRequest(`${url ?? ''}/_control/faults`, { method: 'DELETE' });
  await response.body.dump();
}

function eventNames(body: string): string[] {
  return body
    .split('\n')
    .filter((line) => line.startsWith('event: '))
    .map((line) => line.slice('event: '.length));
}

const ZERO_USAGE = { inputTokens: 0, outputTokens: 0 };

describe('startPlatform in memory', () => {
  let platform: Platform;
  let key: string;

  before(async function () {
    this.timeout(30_000);
    key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    platform = await startPlatform({
      topology: 'workers=8 serverless_burst=disabled',
      redisUrl: '',
    });
  });

  afterEach(async () => {
    for (const url of Object.values(platform.urls.providers)) await clearFaults(url);
  });

  after(async () => {
    await platform.stop();
  });

  async function streamChat(): Promise<{ status: number; body: string }> {
    const response = await undiciRequest(`${platform.urls.gateway}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        route: 'chat',
        maxOutputTokens: 16,
        forcedOutputTokens: 8,
        mode: 'sync',
        stream: true,
      }),
    });
    return { status: response.statusCode, body: await response.body.text() };
  }

  it('bills the worker pool from startWorkerPoolBill', async () => {
    const prices = await loadPriceTable();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sinceStart = platform.workerPoolUsd();
    platform.startWorkerPoolBill();
    const sinceMark = platform.workerPoolUsd();
    assert.ok(sinceStart >= prices.workerPoolUsd(8, 300), `since start ${sinceStart}`);
    assert.ok(sinceMark < prices.workerPoolUsd(8, 100), `since the mark ${sinceMark}`);
  });

  it('hides failover before the first token', async function () {
    this.timeout(20_000);
    await setFaults(platform.urls.providers['provider-a'], { errorRate: 1, errorStatus: 503 });
    const reply = await streamChat();
    assert.equal(reply.status, 200);
    const names = eventNames(reply.body);
    assert.equal(names.at(-1), 'done');
    assert.equal(names.includes('error'), false);
    assert.ok(names.filter((name) => name === 'token').length > 0);
  });

  it('sends an error event when a stream breaks', async function () {
    this.timeout(20_000);
    const cut = { streamCutAfterTokens: 2 };
    await setFaults(platform.urls.providers['provider-a'], cut);
    await setFaults(platform.urls.providers['provider-b'], cut);
    const tenantCost = async () =>
      (await platform.ledger.summary()).byTenant['tenant-alpha']?.totalUsd ?? 0;
    const costBefore = await tenantCost();
    const reply = await streamChat();
    const names = eventNames(reply.body);
    assert.equal(names[0], 'token');
    assert.equal(names.at(-1), 'error');
    const errorLine =
      reply.body
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .at(-1) ?? '';
    const { id, code } = JSON.parse(errorLine.slice('data: '.length)) as {
      id: string;
      code: string;
    };
    assert.equal(code, 'stream_interrupted');
    const record = await platform.store.get('tenant-alpha', id);
    assert.equal(record?.state, 'failed');
    assert.equal(record?.error?.code, 'stream_interrupted');
    // The provider billed the prompt and the tokens streamed before the cut.
    const prices = await loadPriceTable();
    const billed = (record?.error?.attempts ?? []).filter((attempt) => attempt.usage);
    assert.ok(billed.length > 0, 'no attempt recorded the tokens it streamed');
    const expected = billed.reduce(
      (sum, attempt) =>
        sum + prices.priceTokens(attempt.provider, attempt.model, attempt.usage ?? ZERO_USAGE),
      0,
    );
    assert.ok(expected > 0);
    assert.equal(record?.costUsd, expected);
    const ledgered = (await tenantCost()) - costBefore;
    assert.ok(Math.abs(ledgered - expected) < 1e-12, `ledger added ${ledgered}, not ${expected}`);
  });

  it('runs async tasks on in-process workers', async function () {
    this.timeout(20_000);
    const sends = Array.from({ length: 20 }, () =>
      undiciRequest(`${platform.urls.gateway}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          route: 'bench',
          maxOutputTokens: 8,
          mode: 'async',
          steps: 2,
          toolWaitMs: 5,
        }),
      }).then((response) => response.body.dump()),
    );
    await Promise.all(sends);
    const deadline = Date.now() + 15_000;
    let counts = await platform.store.accounting();
    while (counts.queued + counts.running > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      counts = await platform.store.accounting();
    }
    assert.equal(counts.accepted, counts.succeeded + counts.failed + counts.dead_lettered);
    assert.ok(counts.succeeded >= 20);
    assert.ok((await platform.ledger.summary()).tasks >= 20);
  });
});

describe('startPlatform without the fault proxy', () => {
  let platform: Platform | undefined;

  afterEach(async () => {
    await platform?.stop();
    platform = undefined;
  });

  it('serves tasks straight from the mock providers and has no proxy API', async function () {
    this.timeout(30_000);
    const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    platform = await startPlatform({
      topology: 'workers=4 serverless_burst=disabled',
      redisUrl: '',
      faultProxy: false,
    });
    assert.equal(platform.urls.proxyApi, undefined);
    const response = await postTask(platform.urls.gateway, key, {
      route: 'chat',
      maxOutputTokens: 16,
      forcedOutputTokens: 4,
      mode: 'sync',
    });
    const body = response.json as {
      state?: string;
      result?: { usage?: { outputTokens?: number } };
    };
    assert.equal(response.status, 200);
    assert.equal(body.state, 'succeeded');
    assert.equal(body.result?.usage?.outputTokens, 4);
  });
});
