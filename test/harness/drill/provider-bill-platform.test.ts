import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { readProviderBill } from '../../../src/harness/drill/platform-deps.js';
import { roundUsd } from '../../../src/platform/cost/usd.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { RedisTaskStore } from '../../../src/platform/store/redis.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { childPids } from '../../support/processes.js';
import {
  clearFaults,
  postTask,
  setFaults,
  terminalRecord,
  waitFor,
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
    // provider-a sends 10 of the 32 tokens and closes the stream, so provider-b serves the task.
    await setFaults(platform.urls.providers['provider-a'], { streamCutAfterTokens: 10 });
    await runTasks('sync', 1);
    const bill = await readProviderBill(platform);
    const served = (line: { provider: string }) =>
      bill.lines.find((entry) => entry.provider === line.provider);
    assert.equal(served({ provider: 'provider-b' })?.outputTokens, 32);
    assert.ok(bill.totalUsd > before.totalUsd);
    assert.equal(bill.differenceUsd, before.differenceUsd);
  });

  it('charges the prompt of a call cut by the first-token timeout', async function () {
    this.timeout(30_000);
    const before = await readProviderBill(platform);
    // provider-a accepts the call but delays its first token past the route's 4 s timeout.
    await setFaults(platform.urls.providers['provider-a'], { firstTokenDelayMs: 6_000 });
    await runTasks('sync', 1);
    const bill = await readProviderBill(platform);
    const tokens = (provider: string, read: typeof bill): [number, number] => {
      const line = read.lines.find((entry) => entry.provider === provider);
      return [line?.inputTokens ?? 0, line?.outputTokens ?? 0];
    };
    const [aInput, aOutput] = tokens('provider-a', before);
    const [bInput, bOutput] = tokens('provider-b', before);
    assert.deepEqual(tokens('provider-a', bill), [aInput + 135, aOutput]);
    assert.deepEqual(tokens('provider-b', bill), [bInput + 135, bOutput + 32]);
    // provider-a's prompt at $2.5 per million, plus provider-b's 135 input tokens at $3
    // and 32 output tokens at $15 per million.
    assert.equal(roundUsd(bill.chargedUsd - before.chargedUsd), 0.0012225);
    assert.equal(bill.differenceUsd, before.differenceUsd);
  });
});

describe("providers' bill after a killed worker process, on Redis", function () {
  this.timeout(60_000);
  let keyPrefix: string;
  let redis: Redis;
  let platform: Platform | undefined;

  beforeEach(() => {
    keyPrefix = `test-provider-bill-${randomUUID()}`;
    redis = new Redis('redis://127.0.0.1:6379');
  });

  afterEach(async function () {
    this.timeout(20_000);
    await platform?.stop({ drainTimeoutMs: 500 }).catch(() => undefined);
    platform = undefined;
    await new RedisTaskStore({ redis, keyPrefix }).clear();
    await redis.quit();
  });

  it('shows the cut call as uncharged', async () => {
    platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: 'redis://127.0.0.1:6379',
      keyPrefix,
      workerProcesses: 1,
      queue: { stallIntervalMs: 1_000 },
    });
    const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    const providerA = platform.urls.providers['provider-a'];
    // provider-a takes the prompt, then waits 3 s before its first token.
    await setFaults(providerA, { firstTokenDelayMs: 3_000 });
    const reply = await postTask(platform.urls.gateway, key, { ...TASK, mode: 'async' });
    assert.equal(reply.status, 202);
    const started = platform;
    await waitFor(
      async () => ((await readProviderBill(started)).lines[0]?.inputTokens ?? 0) > 0,
      15_000,
    );
    const workers = await childPids(process.pid, 'worker-process');
    assert.equal(workers.length, 1, `expected one worker process, found ${workers.join(', ')}`);
    process.kill(workers[0] ?? 0, 'SIGKILL');
    await clearFaults(providerA);

    const record = await terminalRecord(platform, String(reply.json.id), 40_000);
    assert.equal(record.state, 'succeeded', JSON.stringify(record.error));
    assert.equal(record.deliveries, 2);
    // Worker processes send their metrics in batches, so the charge may arrive after the task ends.
    const ended = platform;
    await waitFor(async () => (await readProviderBill(ended)).chargedUsd > 0, 5_000);
    const bill = await readProviderBill(platform);
    // provider-a served the prompt twice and the 32 output tokens once, and the task was
    // charged for the call that finished: the cut call's 135 input tokens at $2.5 per million.
    assert.deepEqual(
      bill.lines.map((line) => [line.provider, line.inputTokens, line.outputTokens]),
      [['provider-a', 270, 32]],
    );
    assert.equal(bill.chargedUsd, 0.0006575);
    assert.equal(bill.differenceUsd, 0.0003375);
  });
});
