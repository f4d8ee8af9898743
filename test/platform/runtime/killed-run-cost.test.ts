import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { RedisAdmissionBackend } from '../../../src/platform/admission/redis-backend.js';
import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import {
  type Platform,
  type PlatformOptions,
  startPlatform,
} from '../../../src/platform/runtime.js';
import { RedisTaskStore } from '../../../src/platform/store/redis.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { childPids } from '../../support/processes.js';
import { postTask, terminalRecord, TWO_STEP_TASK, waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const TENANT = 'tenant-alpha';

/** Kills the only worker process of the test's platforms with SIGKILL. */
async function killWorkerProcess(): Promise<void> {
  const pids = await childPids(process.pid, 'worker-process');
  assert.equal(pids.length, 1, `expected one worker process, found ${pids.join(', ')}`);
  process.kill(pids[0] ?? 0, 'SIGKILL');
}

/** Returns the price of one step of the task, from the usage of its two steps. */
async function stepUsdOf(record: TaskRecord): Promise<number> {
  const prices = await loadPriceTable();
  const { result } = record;
  assert.ok(result !== undefined, JSON.stringify(record.error));
  const stepsUsd = prices.priceTokens(result.provider, result.model, result.usage);
  assert.ok(stepsUsd > 0, 'the steps made billed calls');
  return stepsUsd / 2;
}

/** Asserts that `actual` equals `expected` up to rounding in Redis. */
function assertUsd(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what} ${actual}, expected ${expected}`);
}

describe('cost of a run killed by SIGKILL, on Redis with a worker process', function () {
  this.timeout(90_000);
  let keyPrefix: string;
  let redis: Redis;
  let admission: RedisAdmissionBackend;
  let options: PlatformOptions;
  const platforms: Platform[] = [];

  beforeEach(() => {
    keyPrefix = `test-killed-run-cost-${randomUUID()}`;
    redis = new Redis(REDIS_URL);
    admission = new RedisAdmissionBackend({ redis, keyPrefix: `${keyPrefix}:admission:` });
    options = {
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      workerProcesses: 1,
      queue: { stallIntervalMs: 1_000 },
    };
    platforms.length = 0;
  });

  afterEach(async function () {
    this.timeout(20_000);
    // A platform that a test stopped already rejects a second stop.
    for (const platform of platforms) {
      await platform.stop({ drainTimeoutMs: 500 }).catch(() => undefined);
    }
    // A store on the run's whole prefix deletes every key of the run.
    await new RedisTaskStore({ redis, keyPrefix }).clear();
    await redis.quit();
  });

  async function start(): Promise<Platform> {
    const platform = await startPlatform(options);
    platforms.push(platform);
    return platform;
  }

  /**
   * Posts the two-step task and returns its id once its first run charged a step and stored
   * it as the checkpoint. The run charges first, so a kill between the two writes would make
   * the next run repeat the step.
   */
  async function postCharged(platform: Platform): Promise<{ id: string; spentUsd: number }> {
    const key = (await loadDemoKeys()).get(TENANT) ?? '';
    const reply = await postTask(platform.urls.gateway, key, TWO_STEP_TASK);
    assert.equal(reply.status, 202);
    const id = String(reply.json.id);
    await waitFor(async () => (await admission.usage({ id: TENANT })).spentUsd > 0, 15_000);
    await waitFor(async () => (await platform.store.getById(id))?.checkpoint?.steps === 1, 5_000);
    return { id, spentUsd: (await admission.usage({ id: TENANT })).spentUsd };
  }

  /** Asserts that the task's cost is `expectedUsd`, as are the ledger and the tenant's spend. */
  async function assertCosts(platform: Platform, record: TaskRecord, expectedUsd: number) {
    assertUsd(record.costUsd ?? 0, expectedUsd, 'task cost');
    await waitFor(async () => (await platform.ledger.summary()).tasks === 1, 5_000);
    assertUsd((await platform.ledger.summary()).totalUsd, expectedUsd, 'ledger total');
    const usage = await admission.usage({ id: TENANT });
    assert.equal(usage.inFlight, 0);
    assertUsd(usage.spentUsd, expectedUsd, 'tenant spend');
  }

  it('adds charged steps of killed run', async () => {
    const platform = await start();
    const { id } = await postCharged(platform);
    await killWorkerProcess();

    const record = await terminalRecord(platform, id, 40_000);
    assert.equal(record.state, 'succeeded', JSON.stringify(record.error));
    assert.equal(record.deliveries, 2);
    // The killed run charged one step and stored it as the task's checkpoint, so the run
    // after it made the second step only.
    assert.equal(record.result?.attempts.length, 2);
    await assertCosts(platform, record, 2 * (await stepUsdOf(record)));
    // Worker processes send their metrics in batches, so the count may arrive after the task ends.
    const resumed = /scalegate_resumed_steps_total\{tenant="tenant-alpha"\} 1\n/;
    const metricsUrl = `${platform.urls.gateway}/metrics`;
    await waitFor(async () => resumed.test(await (await fetch(metricsUrl)).text()), 5_000);
  });

  it('counts requeued run once after kill', async () => {
    const stopping = await start();
    const { id, spentUsd: killedRunUsd } = await postCharged(stopping);
    await killWorkerProcess();
    // The restarted worker process resumes the task after its first step and charges its second.
    await waitFor(
      async () => (await admission.usage({ id: TENANT })).spentUsd > killedRunUsd,
      20_000,
    );
    // Started only now, so that the stopping platform's worker process takes the task.
    const survivor = await start();
    let timedOut = false;
    await stopping.stop({ drainTimeoutMs: 200, onDrainTimeout: () => (timedOut = true) });
    assert.equal(timedOut, true);
    const requeued = await survivor.store.getById(id);
    assert.deepEqual(
      requeued?.deliveryCosts?.map((entry) => entry.delivery),
      [2],
      'the cut run alone is in the record',
    );

    const record = await terminalRecord(survivor, id, 40_000);
    assert.equal(record.state, 'succeeded', JSON.stringify(record.error));
    assert.equal(record.deliveries, 3);
    // The killed run made the first step and the cut run the second, in the tool wait after
    // which the stop cut it. The last run found both steps done and made no call.
    assert.equal(record.result?.attempts.length, 2);
    await assertCosts(survivor, record, 2 * (await stepUsdOf(record)));
  });
});
