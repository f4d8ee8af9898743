import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFile, cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { Redis } from 'ioredis';
import { pino } from 'pino';

import { DEFAULT_PROVIDER_DIR } from '../../../src/faults/providers/profile.js';
import { DEFAULT_PRICES_PATH } from '../../../src/platform/cost/load-price-table.js';
import { createPlatformMetrics } from '../../../src/platform/metrics/index.js';
import { DEFAULT_POLICY_PATH } from '../../../src/platform/router/load-policy.js';
import { startPlatform } from '../../../src/platform/runtime.js';
import { recordWorkerExit, workerExitReason } from '../../../src/platform/runtime/worker-exits.js';
import { RedisTaskStore } from '../../../src/platform/store/redis.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { childPids } from '../../support/processes.js';
import { postTask, sample, scrape, waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** Returns a pino logger that keeps each record it writes, parsed. */
function memoryLogger() {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), records };
}

describe('worker process exits', () => {
  for (const [code, signal, reason] of [
    [null, 'SIGKILL', 'signal'],
    [1, null, 'error'],
    [0, null, 'clean'],
  ] as const) {
    it(`gives reason ${reason} to code ${code} and signal ${signal}`, () => {
      assert.equal(workerExitReason({ code, signal }), reason);
    });
  }

  it('counts and warns of an unrequested exit', async () => {
    const metrics = createPlatformMetrics();
    const { logger, records } = memoryLogger();
    const event = { index: 1, pid: 42, code: null, signal: 'SIGKILL', expected: false } as const;
    recordWorkerExit(logger, metrics, event);
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'scalegate_worker_process_exits_total', 'reason="signal"'), 1);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.level, 40);
    assert.equal(records[0]?.workerPid, 42);
    assert.equal(records[0]?.signal, 'SIGKILL');
    assert.equal(records[0]?.workerIndex, 1);
  });

  it('promises no redelivery after a clean exit', async () => {
    const metrics = createPlatformMetrics();
    const { logger, records } = memoryLogger();
    const event = { index: 0, pid: 44, code: 0, signal: null, expected: false } as const;
    recordWorkerExit(logger, metrics, event);
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'scalegate_worker_process_exits_total', 'reason="clean"'), 1);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.level, 40);
    assert.equal(records[0]?.reason, 'clean');
    assert.equal(
      records[0]?.msg,
      'worker process exited unexpectedly with code 0 after its running jobs finished or went back to the queue',
    );
  });

  it('logs a requested exit at info without counting it', async () => {
    const metrics = createPlatformMetrics();
    const { logger, records } = memoryLogger();
    const event = { index: 0, pid: 43, code: 0, signal: null, expected: true } as const;
    recordWorkerExit(logger, metrics, event);
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'scalegate_worker_process_exits_total', 'reason="clean"'), undefined);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.level, 30);
    assert.equal(records[0]?.msg, 'worker process exited');
  });

  it('logs and counts a killed worker process of the platform', async function () {
    this.timeout(40_000);
    const keyPrefix = `test-worker-exits-${randomUUID()}`;
    const { logger, records } = memoryLogger();
    const platform = await startPlatform({
      topology: 'workers=2 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      workerProcesses: 1,
      logger,
    });
    const redis = new Redis(REDIS_URL);
    try {
      const [pid] = await childPids(process.pid, 'worker-process');
      assert.ok(pid !== undefined, 'no worker process found');
      process.kill(pid, 'SIGKILL');
      const messages = () => records.map((record) => record.msg);
      await waitFor(async () => messages().includes('worker process restarted'), 10_000);
      const exit = records.find((record) => String(record.msg).includes('exited unexpectedly'));
      assert.equal(exit?.workerPid, pid);
      assert.equal(exit?.signal, 'SIGKILL');
      assert.equal(exit?.reason, 'signal');
      const text = await scrape(platform.urls.gateway);
      assert.equal(sample(text, 'scalegate_worker_process_exits_total', 'reason="signal"'), 1);
    } finally {
      await platform.stop({ drainTimeoutMs: 1_000 });
      // A store on the run's whole prefix deletes every key of the run.
      await new RedisTaskStore({ redis, keyPrefix }).clear();
      await redis.quit();
    }
  });

  it('redelivers killed worker task after stall', async function () {
    this.timeout(60_000);
    const keyPrefix = `test-worker-stall-${randomUUID()}`;
    const platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      workerProcesses: 1,
      queue: { stallIntervalMs: 1_000 },
    });
    const redis = new Redis(REDIS_URL);
    try {
      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      // A 3 s tool wait between two steps keeps the task running until the kill.
      const body = {
        route: 'chat',
        maxOutputTokens: 8,
        mode: 'async',
        steps: 2,
        toolWaitMs: 3_000,
      };
      const accepted = await postTask(platform.urls.gateway, key, body);
      assert.equal(accepted.status, 202);
      const taskId = String(accepted.json.id);
      const stateOf = async () => (await platform.store.getById(taskId))?.state;
      await waitFor(async () => (await stateOf()) === 'running', 10_000);
      const [pid] = await childPids(process.pid, 'worker-process');
      assert.ok(pid !== undefined, 'no worker process found');
      process.kill(pid, 'SIGKILL');
      const killedAt = Date.now();

      // With the default 30 s stall interval the task would still be waiting here.
      await waitFor(async () => (await stateOf()) === 'succeeded', 20_000);

      const record = await platform.store.getById(taskId);
      assert.equal(record?.deliveries, 2);
      assert.ok(Date.now() - killedAt < 20_000);
    } finally {
      await platform.stop({ drainTimeoutMs: 1_000 });
      await new RedisTaskStore({ redis, keyPrefix }).clear();
      await redis.quit();
    }
  });
});

describe('worker process files', () => {
  it('runs a replacement worker process on the files read at start', async function () {
    this.timeout(60_000);
    const keyPrefix = `test-worker-files-${randomUUID()}`;
    const dir = await mkdtemp(join(tmpdir(), 'scalegate-worker-files-'));
    const policyPath = join(dir, 'policy.yaml');
    const pricesPath = join(dir, 'prices.yaml');
    await copyFile(DEFAULT_POLICY_PATH, policyPath);
    await copyFile(DEFAULT_PRICES_PATH, pricesPath);
    const providersDir = join(dir, 'providers');
    await cp(DEFAULT_PROVIDER_DIR, providersDir, { recursive: true });
    const profiles = (await readdir(providersDir)).filter((name) => name.endsWith('.yaml'));
    assert.ok(profiles.length > 0, 'no provider profile copied');
    const { logger, records } = memoryLogger();
    const platform = await startPlatform({
      topology: 'workers=2 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      workerProcesses: 1,
      policyPath,
      pricesPath,
      providersDir,
      logger,
    });
    const redis = new Redis(REDIS_URL);
    try {
      // A process that read these files now would fail to load its handler.
      await writeFile(policyPath, 'routes: [not a policy\n');
      await writeFile(pricesPath, 'models: 42\n');
      for (const name of profiles) await writeFile(join(providersDir, name), 'name: 42\n');
      const [pid] = await childPids(process.pid, 'worker-process');
      assert.ok(pid !== undefined, 'no worker process found');
      process.kill(pid, 'SIGKILL');
      const messages = () => records.map((record) => record.msg);
      await waitFor(async () => messages().includes('worker process restarted'), 10_000);

      const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      const body = { route: 'chat', maxOutputTokens: 8, mode: 'async' };
      const accepted = await postTask(platform.urls.gateway, key, body);
      assert.equal(accepted.status, 202);
      const taskId = String(accepted.json.id);
      await waitFor(
        async () => (await platform.store.getById(taskId))?.state === 'succeeded',
        20_000,
      );
      const record = await platform.store.getById(taskId);
      assert.ok((record?.costUsd ?? 0) > 0, `task cost ${record?.costUsd}`);
    } finally {
      await platform.stop({ drainTimeoutMs: 1_000 });
      await new RedisTaskStore({ redis, keyPrefix }).clear();
      await redis.quit();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
