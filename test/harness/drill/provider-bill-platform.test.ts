import assert from 'node:assert/strict';

import { readProviderBill } from '../../../src/harness/drill/platform-deps.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import {
  clearFaults,
  postTask,
  setFaults,
  terminalRecord,
} from '../../platform/runtime/platform-support.js';

/**
 * A chat task of 135 input and 32 output tokens. provider-a's gpt-4o serves it at $2.5 and
 * $10 per million tokens: $0.0006575.
 */
const TASK = { route: 'chat', inputTokens: 135, maxOutputTokens: 32, forcedOutputTokens: 32 };

describe("providers' bill of a running platform, in memory", function () {
  this.timeout(60_000);
  let platform: Platform;
  let key: string;

  before(async () => {
    key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    platform = await startPlatform({
      topology: 'workers=2 serverless_burst=disabled',
      redisUrl: '',
    });
  });

  after(async () => {
    await platform.stop();
  });

  afterEach(async () => {
    await clearFaults(platform.urls.providers['provider-a']);
  });

  async function runTasks(mode: 'sync' | 'async', count: number): Promise<void> {
    for (let index = 0; index < count; index += 1) {
      const reply = await postTask(platform.urls.gateway, key, { ...TASK, mode });
      assert.ok(reply.status === 200 || reply.status === 202, JSON.stringify(reply.json));
      await terminalRecord(platform, String(reply.json.id), 20_000);
    }
  }

  it('matches sync and async task charges exactly', async () => {
    const before = await readProviderBill(platform);
    await runTasks('sync', 2);
    await runTasks('async', 2);
    const bill = await readProviderBill(platform);
    assert.deepEqual(
      bill.lines.map((line) => [line.provider, line.model, line.inputTokens, line.outputTokens]),
      [['provider-a', 'gpt-4o', 540, 128]],
    );
    assert.equal(bill.totalUsd - before.totalUsd, 0.00263);
    assert.equal(bill.chargedUsd, 0.00263);
    assert.equal(bill.differenceUsd, 0);
    assert.deepEqual(bill.unreadProviders, []);
  });

  it('charges a cut stream as served', async () => {
    const before = await readProviderBill(platform);
    // provider-a sends 10 of the 32 tokens, then closes the stream; provider-b serves the task.
    await setFaults(platform.urls.providers['provider-a'], { streamCutAfterTokens: 10 });
    await runTasks('sync', 1);
    const bill = await readProviderBill(platform);
    const served = (line: { provider: string }) =>
      bill.lines.find((entry) => entry.provider === line.provider);
    assert.equal(served({ provider: 'provider-b' })?.outputTokens, 32);
    assert.ok(bill.totalUsd > before.totalUsd);
    assert.equal(bill.differenceUsd, before.differenceUsd);
  });
});
