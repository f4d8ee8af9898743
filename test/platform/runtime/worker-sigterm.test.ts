import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';

import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';

import { RedisAdmissionBackend } from '../../../src/platform/admission/redis-backend.js';
import { RedisRunSlots } from '../../../src/platform/admission/run-slots.js';
import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import type { PriceTable } from '../../../src/platform/cost/price-table.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { RedisTaskStore } from '../../../src/platform/store/redis.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { childPids, isRunning } from '../../support/processes.js';
import {
  postTask,
  sample,
  scrape,
  terminalRecord,
  TWO_STEP_TASK,
  waitFor,
} from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** tenant-noisy has a maxRunning cap, so each task also takes a running slot. */
const TENANT = 'tenant-noisy';

/** Returns a pino logger that keeps each record it writes, parsed. */
function memoryLogger() {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  // Worker processes log at the platform's level; warn covers every unrequested exit.
  return { logger: pino({ level: 'warn' }, stream), records };
}

/** Returns the BullMQ job of task `id` once its worker marked it finished. */
async function finishedJob(queue: Queue, id: string): Promise<Job> {
  let job: Job | undefined;
  await waitFor(async () => {
    job = await queue.getJob(`id-${id}`);
    return job?.finishedOn !== undefined;
  }, 10_000);
  assert.ok(job !== undefined);
  return job;
}

/** Returns the token cost of a finished task's result, which counts each step once. */
function resultCostUsd(prices: PriceTable, record: TaskRecord): number {
  const { result } = record;
  assert.ok(result !== undefined, `task ${record.id} has no result`);
  return prices.priceTokens(result.provider, result.model, result.usage);
}

/** Sends SIGTERM to worker process `pid` and waits until it exited. */
async function terminate(pid: number, timeoutMs: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  await waitFor(async () => !(await isRunning(pid)), timeoutMs);
}

describe('worker process stopped by SIGTERM', function () {
  this.timeout(120_000);
  let redis: Redis;
  let queue: Queue;
  let keyPrefix: string;
  let platforms: Platform[];

  beforeEach(() => {
    keyPrefix = `test-worker-sigterm-${randomUUID()}`;
    redis = new Redis(REDIS_URL);
    queue = new Queue('tasks', { prefix: keyPrefix, connection: redis });
    platforms = [];
  });

  afterEach(async () => {
    await platforms[0]?.purge();
    for (const platform of platforms) await platform.stop({ drainTimeoutMs: 500 });
    await queue.close();
    // A store on the run's whole prefix deletes every key of the run.
    await new RedisTaskStore({ redis, keyPrefix }).clear();
    await redis.quit();
  });

  it('returns its cut task to the queue', async () => {
    const key = (await loadDemoKeys()).get(TENANT) ?? '';
    const { logger, records } = memoryLogger();
    const options = {
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      workerProcesses: 1,
      // The stall interval keeps its 30 s default, so a job left to stall would be delivered
      // again long after the 4 s that the test allows.
      shutdownTimeoutMs: 1_000,
    };
    const stopping = await startPlatform({ ...options, logger });
    platforms.push(stopping);
    const [pid] = await childPids(process.pid, 'worker-process');
    assert.ok(pid !== undefined, 'no worker process found');
    const reply = await postTask(stopping.urls.gateway, key, TWO_STEP_TASK);
    assert.equal(reply.status, 202);
    const id = String(reply.json.id);
    // The first step's call is charged and stored as the checkpoint before the tool wait.
    await waitFor(async () => (await stopping.store.getById(id))?.checkpoint?.steps === 1, 10_000);
    // Started only now, so that the worker process of `stopping` runs the task.
    platforms.push(await startPlatform(options));
    const started = await childPids(process.pid, 'worker-process');

    const signalledAt = Date.now();
    process.kill(pid, 'SIGTERM');
    await waitFor(async () => (await stopping.store.getById(id))?.deliveries === 2, 5_000);
    const requeuedAfterMs = Date.now() - signalledAt;
    assert.ok(requeuedAfterMs >= 900, `delivered again ${requeuedAfterMs} ms after SIGTERM`);
    assert.ok(requeuedAfterMs < 4_000, `delivered again ${requeuedAfterMs} ms after SIGTERM`);
    await waitFor(async () => !(await isRunning(pid)), 5_000);

    const record = await terminalRecord(stopping, id, 30_000);
    assert.equal(record.state, 'succeeded', JSON.stringify(record.error));
    assert.equal(record.deliveries, 2);
    // The queue counts the successful attempt alone: the cut one used none and never stalled.
    const job = await finishedJob(queue, id);
    assert.equal(job.attemptsMade, 1);
    assert.equal(job.attemptsStarted, 2);
    assert.equal(job.stalledCounter, 0);

    // The cut delivery made the first call, the next one the second call only, and the cost
    // counts each once. The record keeps the cut delivery's cost as its own entry.
    const prices = await loadPriceTable();
    const stepsUsd = resultCostUsd(prices, record);
    assert.ok(stepsUsd > 0, 'the steps made billed calls');
    const costUsd = record.costUsd ?? 0;
    assert.ok(Math.abs(costUsd - stepsUsd) < 1e-12, `cost ${costUsd}, steps ${stepsUsd}`);
    assert.equal(record.deliveryCosts?.length, 1);
    assert.equal(record.deliveryCosts?.[0]?.delivery, 1);
    const cutUsd = record.deliveryCosts?.[0]?.costUsd ?? 0;
    assert.ok(Math.abs(cutUsd - stepsUsd / 2) < 1e-12, `cut delivery cost ${cutUsd}`);

    const admission = new RedisAdmissionBackend({ redis, keyPrefix: `${keyPrefix}:admission:` });
    const usage = await admission.usage({ id: TENANT });
    assert.equal(usage.inFlight, 0);
    assert.ok(Math.abs(usage.reservedUsd) < 1e-12, `reserved ${usage.reservedUsd}`);
    assert.ok(Math.abs(usage.spentUsd - costUsd) < 1e-12, `spent ${usage.spentUsd}`);
    const slots = new RedisRunSlots(redis, `${keyPrefix}:admission:`);
    assert.equal(await slots.running(TENANT), 0);

    // The worker process drained cleanly, and its platform replaced it.
    const exit = records.find((entry) => entry.workerPid === pid);
    assert.equal(exit?.code, 0);
    assert.equal(exit?.reason, 'clean');
    const replaced = async () =>
      (await childPids(process.pid, 'worker-process')).some((other) => !started.includes(other));
    await waitFor(replaced, 5_000);
    const text = await scrape(stopping.urls.gateway);
    assert.equal(sample(text, 'scalegate_worker_process_exits_total', 'reason="clean"'), 1);
  });

  it('dead-letters nothing in a rolling restart', async () => {
    const key = (await loadDemoKeys()).get(TENANT) ?? '';
    const { logger, records } = memoryLogger();
    const platform = await startPlatform({
      topology: 'workers=4 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix,
      workerProcesses: 2,
      shutdownTimeoutMs: 500,
      // A job whose worker exits with it active stalls within 2 s, and the second stall of a
      // job fails it, so a stopped worker that left its jobs active fails this test quickly.
      queue: { stallIntervalMs: 2_000 },
      logger,
    });
    platforms.push(platform);
    // Each delivery runs for at least the 5 s tool wait, which outlasts each worker's stop.
    const task = { ...TWO_STEP_TASK, toolWaitMs: 5_000 };
    const ids: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      const reply = await postTask(platform.urls.gateway, key, task);
      assert.equal(reply.status, 202);
      ids.push(String(reply.json.id));
    }
    const states = async () =>
      Promise.all(ids.map(async (id) => (await platform.store.getById(id))?.state));
    await waitFor(async () => (await states()).every((state) => state === 'running'), 10_000);

    for (let round = 0; round < 3; round += 1) {
      for (const pid of await childPids(process.pid, 'worker-process')) {
        await terminate(pid, 5_000);
        // The replacement takes jobs once its BullMQ worker has connected.
        await waitFor(async () => (await queue.getWorkersCount()) === 2, 15_000);
      }
    }

    const prices = await loadPriceTable();
    let deliveries = 0;
    for (const id of ids) {
      const record = await terminalRecord(platform, id, 60_000);
      assert.equal(record.state, 'succeeded', JSON.stringify(record.error));
      deliveries += record.deliveries;
      const costUsd = record.costUsd ?? 0;
      const stepsUsd = resultCostUsd(prices, record);
      // Each finished step is charged once. A stop that cut a model call also charges the
      // tokens that call streamed, at most one step's cost for each delivery that was cut.
      const stepUsd = stepsUsd / TWO_STEP_TASK.steps;
      const cutDeliveries = record.deliveries - 1;
      assert.ok(costUsd >= stepsUsd - 1e-12, `task ${id} cost ${costUsd} below ${stepsUsd}`);
      assert.ok(
        costUsd <= stepsUsd + cutDeliveries * stepUsd + 1e-12,
        `task ${id} cost ${costUsd} above ${stepsUsd} and ${cutDeliveries} cut calls`,
      );
      const job = await finishedJob(queue, id);
      assert.equal(job.attemptsMade, 1, `task ${id} used more than one attempt`);
      assert.equal(job.stalledCounter, 0, `task ${id} stalled`);
    }
    // Six stops each cut the tasks their worker process ran.
    assert.ok(deliveries >= ids.length + 6, `${deliveries} deliveries of ${ids.length} tasks`);
    const counts = await platform.store.accounting();
    assert.equal(counts.dead_lettered, 0);
    assert.equal(counts.failed, 0);
    const exits = records.filter((entry) => entry.reason !== undefined);
    assert.equal(exits.length, 6);
    assert.ok(
      exits.every((entry) => entry.code === 0),
      JSON.stringify(exits.map((entry) => entry.code)),
    );
  });
});
