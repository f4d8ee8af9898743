import assert from 'node:assert/strict';

import {
  isWorkerPauseUnsupportedError,
  type Platform,
  startPlatform,
} from '../../../src/platform/runtime.js';
import { createWorkerSwitch } from '../../../src/platform/runtime/worker-switch.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { postTask, scrape, sample, terminalRecord } from './platform-support.js';

/** An async one-step task of a few tokens, which the mock providers complete at once. */
const SHORT_TASK = {
  route: 'chat',
  inputTokens: 50,
  maxOutputTokens: 4,
  forcedOutputTokens: 4,
  mode: 'async',
};

describe('Platform workers in memory', () => {
  let platform: Platform;
  let key: string;

  before(async function () {
    this.timeout(30_000);
    key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    platform = await startPlatform({
      topology: 'workers=2 serverless_burst=disabled',
      redisUrl: '',
    });
  });

  after(async () => {
    await platform.workers.resume();
    await platform.stop();
  });

  it('holds async tasks in the queue while paused', async () => {
    assert.equal(platform.workers.pausable, true);
    assert.equal(platform.workers.slots, 2);
    await platform.workers.pause();
    assert.equal(platform.workers.paused, true);
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const reply = await postTask(platform.urls.gateway, key, SHORT_TASK);
      assert.equal(reply.status, 202, JSON.stringify(reply.json));
      ids.push(String(reply.json.id));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const metrics = await scrape(platform.urls.gateway);
    assert.equal(sample(metrics, 'scalegate_queue_depth', 'queue="tasks"'), 3);
    const waiting = await platform.store.getById(ids[0] ?? '');
    assert.equal(waiting?.state, 'queued');

    await platform.workers.resume();
    assert.equal(platform.workers.paused, false);
    for (const id of ids) {
      assert.equal((await terminalRecord(platform, id, 10_000)).state, 'succeeded');
    }
    // Every accepted task reached a terminal state, the paused ones included.
    const accounting = await platform.store.accounting();
    assert.equal(accounting.queued, 0);
    assert.equal(accounting.running, 0);
    assert.equal(
      accounting.succeeded + accounting.failed + accounting.dead_lettered,
      accounting.accepted,
    );
  });
});

describe('createWorkerSwitch', () => {
  it('rejects a pause of worker processes, naming the fix', async () => {
    const workers = createWorkerSwitch(24, { processes: 2 });
    assert.equal(workers.pausable, false);
    await assert.rejects(workers.pause(), (error: unknown) => {
      assert.ok(isWorkerPauseUnsupportedError(error));
      assert.match(error.message, /runs them in 2 worker processes on Redis; unset REDIS_URL/);
      return true;
    });
  });
});
