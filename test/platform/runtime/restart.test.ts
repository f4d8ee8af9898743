import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { postTask, waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const TASKS = 6;

describe('platform restart on Redis', function () {
  this.timeout(60_000);

  it('runs queued tasks after a restart', async () => {
    const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    const options = {
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix: `test-restart-${randomUUID()}`,
      workerProcesses: 1,
    };
    const first = await startPlatform(options);
    let second: Platform | undefined;
    try {
      assert.equal(first.keyPrefix, options.keyPrefix);
      const ids: string[] = [];
      // One worker runs one task at a time, so the others wait in the queue.
      for (let index = 0; index < TASKS; index += 1) {
        const task = { route: 'bench', maxOutputTokens: 8, mode: 'async', toolWaitMs: 500 };
        const reply = await postTask(first.urls.gateway, key, task);
        assert.equal(reply.status, 202);
        ids.push(String(reply.json.id));
      }
      const atStop = await first.store.accounting();
      assert.ok(atStop.queued >= TASKS - 2, `only ${atStop.queued} tasks queued at the stop`);
      await first.stop();

      second = await startPlatform(options);
      const restarted = second;
      await waitFor(async () => (await restarted.store.accounting()).succeeded === TASKS, 30_000);
      for (const id of ids) {
        assert.equal((await restarted.store.get('tenant-alpha', id))?.state, 'succeeded');
      }
    } finally {
      // The last task's ledger write may land after its store write, so the keys go once
      // the workers have stopped.
      await second?.stop({ purge: true });
    }
  });

  it('runs one task at a time with workers=1', async () => {
    const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    // No workerProcesses: the platform's default of 2 must shrink to the 1 worker.
    const platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      redisUrl: REDIS_URL,
      keyPrefix: `test-one-worker-${randomUUID()}`,
    });
    try {
      const task = { route: 'bench', maxOutputTokens: 8, mode: 'async', toolWaitMs: 1_000 };
      for (let index = 0; index < 3; index += 1) {
        assert.equal((await postTask(platform.urls.gateway, key, task)).status, 202);
      }
      let maxRunning = 0;
      await waitFor(async () => {
        const counts = await platform.store.accounting();
        maxRunning = Math.max(maxRunning, counts.running);
        return counts.succeeded === 3;
      }, 30_000);
      assert.equal(maxRunning, 1);
    } finally {
      // The last task's ledger write may land after its store write, so the keys go once
      // the workers have stopped.
      await platform.stop({ purge: true });
    }
  });
});
