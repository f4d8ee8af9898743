import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Redis } from 'ioredis';

import {
  type WorkerExitEvent,
  type WorkerPool,
  isWorkerStartError,
  startWorkerPool,
} from '../../../src/platform/executors/worker-pool.js';
import type { BullmqQueueSpec } from '../../../src/platform/executors/worker-pool-options.js';
import type { JobEndedEvent } from '../../../src/platform/executors/worker-protocol.js';
import { type BullmqTaskQueue, createBullmqQueue } from '../../../src/platform/queue/index.js';
import { abortedKey, closedKey, maxOverlap } from '../../fixtures/worker-recording-handler.js';
import { isRunning } from '../../support/processes.js';
import {
  RECORDING_HANDLER,
  REDIS_URL,
  deleteRecords,
  readDeliveries,
  readEvents,
  uniqueNames,
  waitFor,
} from './worker-support.js';

const POOL_PARENT = fileURLToPath(new URL('../../fixtures/worker-pool-parent.ts', import.meta.url));

/** Returns false once `pid` has exited, including as a zombie that no parent reaped yet. */
describe('WorkerPool', function () {
  this.timeout(40_000);
  let redis: Redis;
  let queueSpec: BullmqQueueSpec;
  let keyPrefix: string;
  let producer: BullmqTaskQueue<unknown>;
  let pool: WorkerPool | undefined;

  beforeEach(() => {
    ({ queue: queueSpec, keyPrefix } = uniqueNames());
    redis = new Redis(REDIS_URL);
    producer = createBullmqQueue<unknown>({ ...queueSpec, connection: REDIS_URL });
    pool = undefined;
  });

  afterEach(async () => {
    await pool?.stop();
    await producer.obliterate();
    await deleteRecords(redis, keyPrefix);
    await redis.quit();
  });

  function start(
    overrides: { processes?: number; concurrency?: number; holdMs?: number } & Record<
      string,
      unknown
    > = {},
  ) {
    const { holdMs = 100, ...rest } = overrides;
    return startWorkerPool({
      processes: 2,
      concurrency: 1,
      queue: queueSpec,
      handlerModule: RECORDING_HANDLER,
      handlerConfig: { redisUrl: REDIS_URL, keyPrefix, holdMs },
      shutdownTimeoutMs: 5000,
      logLevel: 'error',
      ...rest,
    });
  }

  async function enqueue(count: number): Promise<void> {
    for (let index = 0; index < count; index += 1) {
      await producer.enqueue(`task-${index}`, null);
    }
  }

  async function waitForCompleted(count: number, timeoutMs: number): Promise<void> {
    await waitFor(
      async () => (await producer.counts()).completed === count,
      timeoutMs,
      `${count} completed jobs`,
    );
  }

  it('rejects the memory driver', async () => {
    await assert.rejects(
      startWorkerPool({
        processes: 1,
        concurrency: 1,
        queue: { driver: 'memory' },
        handlerModule: RECORDING_HANDLER,
      }),
      { name: 'TypeError', message: /queue\.driver must be 'bullmq', got "memory"/ },
    );
  });

  it('rejects an invalid process count', async () => {
    await assert.rejects(start({ processes: 0 }), {
      name: 'RangeError',
      message: 'processes must be an integer >= 1, got 0',
    });
  });

  it('rejects a negative abort grace', async () => {
    await assert.rejects(start({ abortGraceMs: -1 }), {
      name: 'RangeError',
      message: 'abortGraceMs must be an integer >= 0, got -1',
    });
  });

  it('reports a module without createHandler', async () => {
    const badModule = RECORDING_HANDLER.replace('worker-recording-handler', 'worker-bad-handler');
    await assert.rejects(
      start({ processes: 1, handlerModule: badModule, logLevel: 'fatal' }),
      (error: unknown) => {
        assert.ok(isWorkerStartError(error));
        assert.match(error.message, /must export a function named createHandler/);
        return true;
      },
    );
  });

  it('passes a config above the environment limit', async () => {
    // Linux caps one environment string at 128 KiB, and the platform's handler config
    // carries the route policy, the price table and the provider profiles.
    const padding = 'x'.repeat(200_000);
    pool = await start({
      processes: 1,
      handlerConfig: { redisUrl: REDIS_URL, keyPrefix, holdMs: 10, padding },
    });
    await enqueue(2);
    await waitForCompleted(2, 10_000);
    const deliveries = await readDeliveries(redis, keyPrefix);
    assert.deepEqual(deliveries, { 'task-0': 1, 'task-1': 1 });
  });

  it('keeps one active task under a global cap of 1', async () => {
    pool = await start({ processes: 2, concurrency: 2, globalConcurrency: 1, holdMs: 80 });
    await enqueue(8);
    await waitForCompleted(8, 20_000);
    const events = await readEvents(redis, keyPrefix);
    assert.equal(events.length, 16);
    assert.equal(maxOverlap(events), 1);
  });

  it('redelivers the task of a SIGKILLed worker', async () => {
    pool = await start({ processes: 2, concurrency: 1, holdMs: 1500 });
    await enqueue(3);
    await waitFor(
      async () => (await readEvents(redis, keyPrefix)).length > 0,
      10_000,
      'a task start',
    );
    const [first] = await readEvents(redis, keyPrefix);
    assert.ok(first !== undefined);
    const victim = pool.pids.indexOf(first.pid);
    assert.ok(pool.kill(victim, 'SIGKILL'), `worker ${victim} was not alive`);
    await waitForCompleted(3, 20_000);
    const deliveries = await readDeliveries(redis, keyPrefix);
    assert.equal((await producer.counts()).completed, 3);
    assert.equal(deliveries[first.id], 2);
  });

  it('starts its processes from another working directory', async () => {
    const away = await mkdtemp(join(tmpdir(), 'scalegate-cwd-'));
    const home = process.cwd();
    try {
      // The processes inherit the directory, which has no node_modules to load tsx from.
      process.chdir(away);
      try {
        pool = await start({ processes: 1, holdMs: 10 });
      } finally {
        process.chdir(home);
      }
      await enqueue(1);
      await waitForCompleted(1, 10_000);
      await pool.stop();
      pool = undefined;
    } finally {
      await rm(away, { recursive: true, force: true });
    }
  });

  it('drains active tasks on stop and exits 0', async () => {
    pool = await start({ processes: 1, holdMs: 800 });
    const exits: WorkerExitEvent[] = [];
    pool.on('exit', (event) => exits.push(event));
    await enqueue(1);
    await waitFor(
      async () => (await readEvents(redis, keyPrefix)).length === 1,
      10_000,
      'a task start',
    );
    await pool.stop();
    const events = await readEvents(redis, keyPrefix);
    assert.deepEqual(
      events.map((event) => event.type),
      ['start', 'end'],
    );
    assert.equal((await producer.counts()).completed, 1);
    assert.equal(exits.length, 1);
    assert.equal(exits[0]?.code, 0);
    assert.equal(exits[0]?.expected, true);
    assert.equal(await redis.get(closedKey(keyPrefix)), '1');
  });

  it('keeps its job after SIGHUP until stop', async () => {
    pool = await start({ processes: 1, holdMs: 1_500 });
    const exits: WorkerExitEvent[] = [];
    pool.on('exit', (event) => exits.push(event));
    await enqueue(1);
    await waitFor(
      async () => (await readEvents(redis, keyPrefix)).length === 1,
      10_000,
      'a task start',
    );
    // A terminal's hang-up reaches every process of its foreground group, the worker too.
    assert.ok(pool.kill(0, 'SIGHUP'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(exits.length, 0, `the worker exited on SIGHUP: ${JSON.stringify(exits)}`);
    await pool.stop();
    const events = await readEvents(redis, keyPrefix);
    assert.deepEqual(
      events.map((event) => event.type),
      ['start', 'end'],
    );
    assert.equal((await producer.counts()).completed, 1);
    assert.equal(exits.length, 1);
    assert.equal(exits[0]?.code, 0);
    assert.equal(exits[0]?.signal, null);
    assert.equal(exits[0]?.expected, true);
  });

  it('passes metric messages on as metrics events', async () => {
    pool = await start({ processes: 2, holdMs: 10 });
    const batches: unknown[][] = [];
    const sources = new Set<number>();
    pool.on('metrics', (calls, processIndex) => {
      batches.push(calls);
      sources.add(processIndex);
    });
    await enqueue(4);
    await waitFor(async () => batches.length === 4, 10_000, 'four metric batches');
    const jobs = batches.flat().map((call) => (call as { job?: string }).job);
    assert.deepEqual(jobs.sort(), ['task-0', 'task-1', 'task-2', 'task-3']);
    assert.ok(
      [...sources].every((index) => index === 0 || index === 1),
      `${[...sources]}`,
    );
  });

  it('attaches listeners before jobs start', async () => {
    // Jobs queued before start run as soon as the first process is ready, while the others
    // still load, so a listener added after start resolves misses their messages.
    const jobCount = 40;
    await enqueue(jobCount);
    const jobs: unknown[] = [];
    pool = await startWorkerPool(
      {
        processes: 3,
        concurrency: 1,
        queue: queueSpec,
        handlerModule: RECORDING_HANDLER,
        handlerConfig: { redisUrl: REDIS_URL, keyPrefix, holdMs: 0 },
        shutdownTimeoutMs: 5000,
        logLevel: 'error',
      },
      (starting) =>
        starting.on('metrics', (calls) => {
          for (const call of calls) jobs.push((call as { job?: string }).job);
        }),
    );
    await waitForCompleted(jobCount, 10_000);
    await waitFor(async () => jobs.length >= jobCount, 5000, `${jobCount} metric calls`);
    assert.equal(jobs.length, jobCount);
    assert.equal(new Set(jobs).size, jobCount);
  });

  it('passes jobs the queue ended on as jobEnded events', async () => {
    pool = await start({ processes: 1, holdMs: 10 });
    const ended: JobEndedEvent[] = [];
    pool.on('jobEnded', (event) => ended.push(event));
    await producer.enqueue('fail-1', { ticket: 'payload of fail-1' });
    await producer.enqueue('task-ok', null);
    await waitFor(async () => ended.length === 1, 10_000, 'one jobEnded event');
    await waitFor(async () => (await producer.counts()).completed === 1, 10_000, 'one completion');
    assert.deepEqual(ended, [
      {
        id: 'fail-1',
        state: 'failed',
        message: 'fixture failure of fail-1',
        data: { ticket: 'payload of fail-1' },
      },
    ]);
  });

  it('asks every process to abort its running jobs', async () => {
    pool = await start({ processes: 2 });
    pool.abortRunning();
    await waitFor(
      async () => (await redis.get(abortedKey(keyPrefix))) === '2',
      10_000,
      'two abort calls',
    );
    assert.equal(await redis.get(abortedKey(keyPrefix)), '2');
  });

  it('exits at once on a second signal', async () => {
    pool = await start({ processes: 1, holdMs: 60_000 });
    const exits: WorkerExitEvent[] = [];
    pool.on('exit', (event) => exits.push(event));
    await enqueue(1);
    await waitFor(
      async () => (await readEvents(redis, keyPrefix)).length === 1,
      10_000,
      'a task start',
    );
    const started = Date.now();
    assert.ok(pool.kill(0, 'SIGTERM'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(pool.kill(0, 'SIGTERM'), 'the worker exited on the first SIGTERM');
    await waitFor(async () => exits.length === 1, 5_000, 'the worker exit');
    assert.equal(exits[0]?.code, 143);
    assert.ok(Date.now() - started < 3_000, `exit took ${Date.now() - started} ms`);
  });

  it('exits 1 when aborted jobs outlast the grace', async () => {
    pool = await start({
      processes: 1,
      holdMs: 60_000,
      shutdownTimeoutMs: 1_000,
      abortGraceMs: 500,
      logLevel: 'fatal',
    });
    const exits: WorkerExitEvent[] = [];
    pool.on('exit', (event) => exits.push(event));
    await enqueue(1);
    await waitFor(
      async () => (await readEvents(redis, keyPrefix)).length === 1,
      10_000,
      'a task start',
    );
    const signalledAt = Date.now();
    assert.ok(pool.kill(0, 'SIGTERM'));
    await waitFor(async () => exits.length === 1, 5_000, 'the worker exit');
    const elapsedMs = Date.now() - signalledAt;
    assert.equal(exits[0]?.code, 1);
    assert.equal(exits[0]?.signal, null);
    // The drain time ran out, the job was aborted and kept running through the grace.
    assert.equal(await redis.get(abortedKey(keyPrefix)), '1');
    assert.ok(elapsedMs >= 1_400, `exit after ${elapsedMs} ms, before drain time plus grace`);
  });

  it('aborts jobs when a signal drain times out', async () => {
    pool = await start({
      processes: 1,
      handlerConfig: { redisUrl: REDIS_URL, keyPrefix, holdMs: 60_000, endOnAbort: true },
      shutdownTimeoutMs: 1_000,
      abortGraceMs: 20_000,
      logLevel: 'fatal',
    });
    const exits: WorkerExitEvent[] = [];
    pool.on('exit', (event) => exits.push(event));
    await enqueue(1);
    await waitFor(
      async () => (await readEvents(redis, keyPrefix)).length === 1,
      10_000,
      'a task start',
    );
    const signalledAt = Date.now();
    assert.ok(pool.kill(0, 'SIGTERM'));
    await waitFor(async () => exits.length === 1, 10_000, 'the worker exit');
    const elapsedMs = Date.now() - signalledAt;
    // The aborted job ended, so the drain finished long before the grace ran out.
    assert.equal(exits[0]?.code, 0);
    assert.equal(await redis.get(abortedKey(keyPrefix)), '1');
    assert.ok(elapsedMs >= 900, `exit after ${elapsedMs} ms, before the drain time`);
    assert.ok(elapsedMs < 6_000, `exit after ${elapsedMs} ms`);
    assert.equal(await redis.get(closedKey(keyPrefix)), '1');
  });

  for (const holdMs of [10, 60_000]) {
    it(`exits its processes when the parent dies, jobs holding ${holdMs} ms`, async function () {
      this.timeout(30_000);
      const options = {
        processes: 2,
        concurrency: 1,
        queue: queueSpec,
        handlerModule: RECORDING_HANDLER,
        handlerConfig: { redisUrl: REDIS_URL, keyPrefix, holdMs },
        logLevel: 'fatal',
      };
      const parent = spawn(
        process.execPath,
        ['--import', 'tsx', POOL_PARENT, JSON.stringify(options)],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let pids: number[] = [];
      try {
        const [line] = (await once(parent.stdout, 'data')) as [Buffer];
        pids = (JSON.parse(line.toString('utf8')) as { pids: number[] }).pids;
        assert.equal(pids.length, 2);
        await enqueue(2);
        await waitFor(
          async () => (await readEvents(redis, keyPrefix)).length >= 2,
          10_000,
          'two task starts',
        );
        const started = Date.now();
        parent.kill('SIGKILL');
        await waitFor(
          async () => !(await isRunning(pids[0] ?? 0)) && !(await isRunning(pids[1] ?? 0)),
          10_000,
          'both worker processes to exit',
        );
        assert.ok(Date.now() - started < 3_000, `exit took ${Date.now() - started} ms`);
        // The orphaned processes leave their jobs running, so the queue delivers them again.
        assert.equal(await redis.get(abortedKey(keyPrefix)), null);
        pool = await start({ processes: 1, holdMs: 10 });
        await waitForCompleted(2, 20_000);
      } finally {
        parent.kill('SIGKILL');
        for (const pid of pids) {
          if (await isRunning(pid)) process.kill(pid, 'SIGKILL');
        }
      }
    });
  }

  it('restarts a crashed worker', async () => {
    pool = await start({ processes: 1, restartCrashed: true, restartDelayMs: 50 });
    const oldPid = pool.pids[0];
    const restarted = new Promise<number | undefined>((resolve) => {
      pool?.once('restart', (event) => resolve(event.pid));
    });
    assert.ok(pool.kill(0, 'SIGKILL'));
    const newPid = await restarted;
    assert.notEqual(newPid, undefined);
    assert.notEqual(newPid, oldPid);
    await enqueue(2);
    await waitForCompleted(2, 20_000);
    const events = await readEvents(redis, keyPrefix);
    assert.deepEqual(new Set(events.map((event) => event.pid)), new Set([newPid]));
  });
});
