/**
 * A Redis restart in the middle of a worker pool run. The test starts its own
 * redis-server with AOF and `appendfsync always`: every write is fsynced
 * before Redis replies, so a job that BullMQ acknowledged survives SHUTDOWN
 * and the restart that reloads the same directory. With the default
 * `appendfsync everysec`, up to a second of writes could be lost.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';

import { type WorkerPool, startWorkerPool } from '../../../src/platform/executors/worker-pool.js';
import { type BullmqTaskQueue, createBullmqQueue } from '../../../src/platform/queue/index.js';
import {
  RECORDING_HANDLER,
  REDIS_URL,
  deleteRecords,
  uniqueNames,
  waitFor,
} from './worker-support.js';
import { freePort } from '../../support/redis-server.js';

const TASKS = 50;

/** Starts redis-server on 127.0.0.1:port with AOF fsynced on every write, and waits for PING. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const server = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--dir',
      dir,
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  await waitFor(
    async () => {
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        client.disconnect();
        return false;
      }
    },
    10_000,
    `redis-server on port ${port}`,
  );
  client.disconnect();
  return server;
}

async function shutdownRedis(port: number, server: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => null });
  client.on('error', () => undefined);
  await client.call('SHUTDOWN').catch(() => undefined);
  client.disconnect();
  await exited;
}

// NOTE: during the outage BullMQ's own ioredis client may print one
// "[ioredis] Unhandled error event: ECONNREFUSED" line; it reconnects and the test is unaffected.
describe('WorkerPool with a Redis restart', function () {
  this.timeout(60_000);
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;
  let pool: WorkerPool | undefined;
  let producer: BullmqTaskQueue<null> | undefined;
  let records: Redis;
  let keyPrefix: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scalegate-redis-'));
    port = await freePort();
    server = await startRedis(port, dir);
    records = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    await pool?.stop();
    await producer?.close();
    await deleteRecords(records, keyPrefix);
    await records.quit();
    server?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('brings every accepted task to a terminal state', async () => {
    const redisUrl = `redis://127.0.0.1:${port}`;
    const names = uniqueNames(redisUrl);
    keyPrefix = names.keyPrefix;
    producer = createBullmqQueue<null>({ ...names.queue, connection: redisUrl });
    for (let index = 0; index < TASKS; index += 1) {
      await producer.enqueue(`task-${index}`, null);
    }

    pool = await startWorkerPool({
      processes: 2,
      concurrency: 2,
      queue: { ...names.queue, maxAttempts: 5, backoffBaseMs: 100 },
      handlerModule: RECORDING_HANDLER,
      handlerConfig: { redisUrl: REDIS_URL, keyPrefix, holdMs: 100 },
      shutdownTimeoutMs: 5000,
      logLevel: 'fatal',
    });

    const live = producer;
    await waitFor(async () => (await live.counts()).completed >= 10, 20_000, '10 completed tasks');
    const completedBeforeRestart = (await live.counts()).completed;
    if (server !== undefined) {
      await shutdownRedis(port, server);
    }
    server = await startRedis(port, dir);

    await waitFor(
      async () => {
        const counts = await live.counts();
        return counts.completed + counts.failed + counts.deadLettered === TASKS;
      },
      40_000,
      `${TASKS} terminal tasks`,
    );
    const counts = await live.counts();
    assert.equal(counts.accepted, TASKS);
    assert.equal(counts.completed + counts.failed + counts.deadLettered, TASKS);
    assert.equal(counts.completed, TASKS);
    assert.ok(completedBeforeRestart < TASKS, 'the restart came after the run had ended');
  });
});
