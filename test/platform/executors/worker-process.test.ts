import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { Redis } from 'ioredis';

import type { WorkerProcessConfig } from '../../../src/platform/executors/worker-protocol.js';
import { WORKER_CONFIG_ENV } from '../../../src/platform/executors/worker-protocol.js';
import { createBullmqQueue } from '../../../src/platform/queue/index.js';
import { TSX_EXEC_ARGV } from '../../../src/platform/tsx-import.js';
import { isRunning } from '../../support/processes.js';
import { RECORDING_HANDLER, REDIS_URL, deleteRecords, uniqueNames } from './worker-support.js';

const WORKER_ENTRY = fileURLToPath(
  new URL('../../../src/platform/executors/worker-process.ts', import.meta.url),
);

describe('worker process', function () {
  this.timeout(30_000);

  it('exits when the pool disconnects during start', async () => {
    const { queue, keyPrefix } = uniqueNames();
    const config: WorkerProcessConfig = {
      index: 0,
      concurrency: 1,
      globalConcurrency: undefined,
      queue,
      handlerModule: RECORDING_HANDLER,
      handlerConfig: { redisUrl: REDIS_URL, keyPrefix, holdMs: 100 },
      logLevel: 'silent',
      drainTimeoutMs: 1000,
      abortGraceMs: 1000,
    };
    const child = fork(WORKER_ENTRY, [], {
      execArgv: [...TSX_EXEC_ARGV],
      env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    const exited = once(child, 'exit');
    const redis = new Redis(REDIS_URL);
    const producer = createBullmqQueue<unknown>({ ...queue, connection: REDIS_URL });
    try {
      // The pool closes the channel before the worker loaded its modules, as the death of
      // a platform process during its start does.
      child.disconnect();
      const timeout = new Promise<'timeout'>((resolve) => {
        setTimeout(() => resolve('timeout'), 20_000).unref();
      });
      const outcome = await Promise.race([exited, timeout]);
      assert.notEqual(outcome, 'timeout', 'the worker still ran 20 s after the disconnect');
      assert.deepEqual(outcome, [1, null]);
    } finally {
      if (child.pid !== undefined && (await isRunning(child.pid))) child.kill('SIGKILL');
      await producer.obliterate();
      await deleteRecords(redis, keyPrefix);
      await redis.quit();
    }
  });
});
