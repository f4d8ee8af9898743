import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';

import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import { systemClock } from '../../../src/platform/clock.js';
import type { QueuedTaskData } from '../../../src/platform/gateway/ports.js';
import { createMemoryQueue } from '../../../src/platform/queue/index.js';
import {
  type Platform,
  type PlatformOptions,
  startPlatform,
} from '../../../src/platform/runtime.js';
import { createTaskHandler } from '../../../src/platform/runtime/task-consumer.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import { isTerminal } from '../../../src/platform/store/task-store.js';
import type { StepCheckpoint, TaskRecord } from '../../../src/platform/task.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { childPids } from '../../support/processes.js';
import { postTask, terminalRecord, waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const TENANT = 'tenant-alpha';

/**
 * Time in ms that the last delivery may take beyond the rest of its tool wait, for the
 * store writes that start and end it and for timer delays.
 */
const SLACK_MS = 600;

/** Returns the task's checkpoint once a store read finds one, polling every 20 ms. */
async function checkpointOf(
  read: () => Promise<TaskRecord | undefined>,
  timeoutMs: number,
): Promise<StepCheckpoint> {
  let checkpoint: StepCheckpoint | undefined;
  await waitFor(async () => {
    checkpoint = (await read())?.checkpoint;
    return checkpoint !== undefined;
  }, timeoutMs);
  assert.ok(checkpoint !== undefined);
  return checkpoint;
}

/** Sleeps until `time`, in ms since the Unix epoch, or returns at once when it has passed. */
async function sleepUntil(time: number): Promise<void> {
  await sleep(Math.max(0, time - Date.now()));
}

/**
 * Asserts that the delivery that finished `record` started `minLeftMs` or more before the
 * tool wait of `checkpoint` ended, then waited only what was left of it.
 */
function assertWaitedRest(record: TaskRecord, checkpoint: StepCheckpoint, minLeftMs: number) {
  assert.equal(record.state, 'succeeded', JSON.stringify(record.error));
  assert.equal(record.deliveries, 2);
  const endsAt = checkpoint.toolWaitEndsAt;
  assert.ok(endsAt !== undefined, 'the checkpoint has the end of its tool wait');
  const startedAt = record.startedAt ?? Number.NaN;
  const finishedAt = record.finishedAt ?? Number.NaN;
  const leftMs = endsAt - startedAt;
  assert.ok(leftMs >= minLeftMs, `redelivered ${leftMs} ms before the tool wait ended`);
  assert.ok(finishedAt >= endsAt - 5, `finished ${endsAt - finishedAt} ms before the wait ended`);
  assert.ok(
    finishedAt - startedAt <= leftMs + SLACK_MS,
    `the last delivery took ${finishedAt - startedAt} ms with ${leftMs} ms of wait left`,
  );
}

describe('tool wait across deliveries', function () {
  this.timeout(60_000);

  it('waits the rest on the memory queue', async () => {
    const store = new MemoryTaskStore();
    const admission = new MemoryAdmissionBackend();
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    const queue = createMemoryQueue<QueuedTaskData>({ name: 'tasks' });
    const result = {
      text: 'done',
      usage: { inputTokens: 10, outputTokens: 2 },
      provider: 'provider-a',
      model: 'gpt-4o',
      attempts: [],
      timeToFirstTokenMs: 1,
    };
    const router = { call: async () => ({ result, tokenCostUsd: 0.5 }) };
    const handlerFor = (shutdown?: AbortSignal) =>
      createTaskHandler({
        store,
        router,
        finisher,
        clock: systemClock,
        maxAttempts: 3,
        shutdown,
        onShutdown: 'requeue',
      });
    const tenant = {
      id: TENANT,
      requestsPerMinute: 1000,
      tokensPerMinute: 1_000_000,
      maxInFlight: 10,
      budgetUsd: 10,
    };
    const decision = await admission.admit({ tenant, tokens: 100, maxCostUsd: 1 });
    assert.ok(decision.admitted);
    await store.create({
      id: 't1',
      tenantId: TENANT,
      request: {
        route: 'chat',
        maxOutputTokens: 2,
        mode: 'async',
        priority: 'standard',
        steps: 1,
        toolWaitMs: 2_000,
      },
      state: 'queued',
      createdAt: Date.now(),
      deliveries: 0,
    });

    const cut = new AbortController();
    const first = queue.consume(handlerFor(cut.signal), { concurrency: 1 });
    try {
      await queue.enqueue('t1', { ticket: decision.ticket });
      const checkpoint = await checkpointOf(() => store.getById('t1'), 5_000);
      assert.ok(checkpoint.toolWaitEndsAt !== undefined, 'the checkpoint has its wait end');
      await sleepUntil(checkpoint.toolWaitEndsAt - 1_000);
      // The first consumer takes no job once paused, so the second one runs the next delivery.
      await first.pause();
      queue.consume(handlerFor(), { concurrency: 1 });
      cut.abort();

      let record: TaskRecord | undefined;
      await waitFor(async () => {
        record = await store.getById('t1');
        return record !== undefined && isTerminal(record.state);
      }, 5_000);
      assert.ok(record !== undefined);
      assertWaitedRest(record, checkpoint, 900);
    } finally {
      await queue.close();
    }
  });

  describe('on Redis', () => {
    let redis: Redis;
    let keyPrefix: string;
    const platforms: Platform[] = [];

    beforeEach(() => {
      redis = new Redis(REDIS_URL);
      keyPrefix = `test-tool-wait-resume-${randomUUID()}`;
      platforms.length = 0;
    });

    afterEach(async function () {
      this.timeout(20_000);
      // The last platform deletes the run's keys once its workers stopped. A platform that a
      // test stopped already rejects a second stop.
      for (const [index, platform] of platforms.entries()) {
        const purge = index === platforms.length - 1;
        await platform.stop({ drainTimeoutMs: 500, purge }).catch(() => undefined);
      }
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });

    async function start(options: PlatformOptions): Promise<Platform> {
      const platform = await startPlatform(options);
      platforms.push(platform);
      return platform;
    }

    /** Posts a one-step task with a tool wait of `toolWaitMs`; returns its id. */
    async function postWaitingTask(platform: Platform, toolWaitMs: number): Promise<string> {
      const key = (await loadDemoKeys()).get(TENANT) ?? '';
      const task = {
        route: 'chat',
        inputTokens: 100,
        maxOutputTokens: 8,
        forcedOutputTokens: 8,
        mode: 'async',
        steps: 1,
        toolWaitMs,
      };
      const reply = await postTask(platform.urls.gateway, key, task);
      assert.equal(reply.status, 202);
      return String(reply.json.id);
    }

    for (const workerProcesses of [0, 1]) {
      const where = workerProcesses === 0 ? 'in process' : 'in a worker process';

      it(`waits the rest after a stop ${where}`, async () => {
        const options = {
          topology: 'workers=1 serverless_burst=disabled',
          redisUrl: REDIS_URL,
          keyPrefix,
          workerProcesses,
        };
        const stopping = await start(options);
        const id = await postWaitingTask(stopping, 5_000);
        const checkpoint = await checkpointOf(() => stopping.store.getById(id), 15_000);
        assert.ok(checkpoint.toolWaitEndsAt !== undefined, 'the checkpoint has its wait end');
        // Started only now, so that the stopping platform's consumer takes the task.
        const survivor = await start(options);
        await sleepUntil(checkpoint.toolWaitEndsAt - 4_000);
        // The drain time runs out, so the cut task goes back to the queue.
        await stopping.stop({ drainTimeoutMs: 200 });

        const record = await terminalRecord(survivor, id, 15_000);
        assertWaitedRest(record, checkpoint, 500);
      });
    }

    it('waits the rest after a worker kill', async () => {
      const platform = await start({
        topology: 'workers=1 serverless_burst=disabled',
        redisUrl: REDIS_URL,
        keyPrefix,
        workerProcesses: 1,
        queue: { stallIntervalMs: 1_000 },
      });
      const id = await postWaitingTask(platform, 8_000);
      const checkpoint = await checkpointOf(() => platform.store.getById(id), 15_000);
      assert.ok(checkpoint.toolWaitEndsAt !== undefined, 'the checkpoint has its wait end');
      await sleepUntil(checkpoint.toolWaitEndsAt - 7_000);
      const pids = await childPids(process.pid, 'worker-process');
      assert.equal(pids.length, 1, `expected one worker process, found ${pids.join(', ')}`);
      process.kill(pids[0] ?? 0, 'SIGKILL');

      // The pool starts a new process, and the queue redelivers the task once it finds
      // the killed delivery's lock expired.
      const record = await terminalRecord(platform, id, 20_000);
      assertWaitedRest(record, checkpoint, 500);
    });
  });
});
