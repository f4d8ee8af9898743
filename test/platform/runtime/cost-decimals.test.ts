import assert from 'node:assert/strict';

import { request } from 'undici';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { isTerminal } from '../../../src/platform/store/task-store.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { scrape, waitFor } from './platform-support.js';

/**
 * A chat task that provider-a's gpt-4o serves with 135 input tokens at $2.5 and 32 output
 * tokens at $10 per million: 0.0003375 + 0.00032, which float addition makes
 * 0.0006575000000000001.
 */
const PRICED_TASK = {
  route: 'chat',
  inputTokens: 135,
  maxOutputTokens: 32,
  forcedOutputTokens: 32,
};

describe('task cost in the API, in memory', () => {
  let platform: Platform;
  let key: string;

  before(async function () {
    this.timeout(30_000);
    key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    platform = await startPlatform({
      topology: 'workers=2 serverless_burst=disabled',
      redisUrl: '',
    });
  });

  after(async () => {
    await platform.stop();
  });

  async function send(
    path: string,
    body?: unknown,
    apiKey = key,
  ): Promise<{ status: number; text: string }> {
    const response = await request(`${platform.urls.gateway}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.statusCode, text: await response.body.text() };
  }

  it('returns a sync task cost exactly', async function () {
    this.timeout(20_000);
    const reply = await send('/v1/tasks', { ...PRICED_TASK, mode: 'sync' });
    assert.equal(reply.status, 200);
    assert.match(reply.text, /"costUsd":0\.0006575[,}]/);
    const id = String((JSON.parse(reply.text) as { id: unknown }).id);

    const view = await send(`/v1/tasks/${id}`);
    assert.match(view.text, /"costUsd":0\.0006575[,}]/);
    assert.equal((JSON.parse(view.text) as { costUsd: unknown }).costUsd, 0.0006575);
    assert.equal((await platform.store.getById(id))?.costUsd, 0.0006575);
  });

  it('streams a task cost exactly', async function () {
    this.timeout(20_000);
    const reply = await send('/v1/tasks', { ...PRICED_TASK, mode: 'sync', stream: true });
    assert.equal(reply.status, 200);
    const done = reply.text.split('\n\n').find((event) => event.startsWith('event: done'));
    assert.ok(done !== undefined, `no done event in ${reply.text}`);
    assert.match(done, /"costUsd":0\.0006575[,}]/);
  });

  it('stores an async task cost exactly', async function () {
    this.timeout(20_000);
    const reply = await send('/v1/tasks', { ...PRICED_TASK, mode: 'async' });
    assert.equal(reply.status, 202);
    const id = String((JSON.parse(reply.text) as { id: unknown }).id);
    await waitFor(
      async () => isTerminal((await platform.store.getById(id))?.state ?? 'queued'),
      10_000,
    );

    const view = await send(`/v1/tasks/${id}`);
    assert.match(view.text, /"state":"succeeded"/);
    assert.match(view.text, /"costUsd":0\.0006575[,}]/);
  });

  it('totals ledger and metrics exactly', async function () {
    this.timeout(20_000);
    const betaKey = (await loadDemoKeys()).get('tenant-beta') ?? '';
    for (let task = 0; task < 3; task += 1) {
      const reply = await send('/v1/tasks', { ...PRICED_TASK, mode: 'sync' }, betaKey);
      assert.equal(reply.status, 200);
    }
    const betaTotal = async () => (await platform.ledger.summary()).byTenant['tenant-beta'];
    await waitFor(async () => (await betaTotal())?.tasks === 3, 5_000);

    assert.equal((await betaTotal())?.totalUsd, 0.0019725);
    const metrics = await scrape(platform.urls.gateway);
    const costLines = metrics
      .split('\n')
      .filter((line) => line.startsWith('scalegate_cost_usd_total{tenant="tenant-beta"'));
    assert.deepEqual(costLines, [
      'scalegate_cost_usd_total{tenant="tenant-beta",route="chat"} 0.0019725',
    ]);
  });
});
