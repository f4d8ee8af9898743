import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import {
  type Platform,
  type PlatformOptions,
  startPlatform,
} from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { postTask, sample, scrape } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

const SYNC_CHAT = { route: 'chat', maxOutputTokens: 4, mode: 'sync' };

/** Reads `scalegate_tasks{state}` from the platform's `/metrics`. */
async function taskGauge(platform: Platform, state: string): Promise<number | undefined> {
  return sample(await scrape(platform.urls.gateway), 'scalegate_tasks', `state="${state}"`);
}

describe('scalegate_tasks gauge', function () {
  this.timeout(60_000);
  const platforms: Platform[] = [];
  let key: string;

  async function start(options: PlatformOptions): Promise<Platform> {
    const platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      workerProcesses: 1,
      faultProxy: false,
      ...options,
    });
    platforms.push(platform);
    return platform;
  }

  before(async () => {
    key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
  });

  afterEach(async () => {
    // The last platform deletes the key prefix once the others have stopped.
    const stopping = platforms.splice(0);
    for (const [index, platform] of stopping.entries()) {
      await platform.stop({ drainTimeoutMs: 500, purge: index === stopping.length - 1 });
    }
  });

  it('counts tasks by state in memory', async () => {
    const platform = await start({ redisUrl: '' });
    assert.equal((await postTask(platform.urls.gateway, key, SYNC_CHAT)).status, 200);
    assert.equal(await taskGauge(platform, 'succeeded'), 1);
    assert.equal(await taskGauge(platform, 'queued'), 0);
    assert.equal(await taskGauge(platform, 'running'), 0);
    assert.equal(await taskGauge(platform, 'failed'), 0);
    assert.equal(await taskGauge(platform, 'dead_lettered'), 0);
  });

  it('shows one value in every process on a prefix', async () => {
    const keyPrefix = `test-task-gauge-${randomUUID()}`;
    const first = await start({ redisUrl: REDIS_URL, keyPrefix });
    const second = await start({ redisUrl: REDIS_URL, keyPrefix });
    for (let index = 0; index < 2; index += 1) {
      assert.equal((await postTask(first.urls.gateway, key, SYNC_CHAT)).status, 200);
    }
    assert.equal(await taskGauge(first, 'succeeded'), 2);
    assert.equal(await taskGauge(second, 'succeeded'), 2);

    // A process that starts later on the prefix shows the counts from before its start.
    const third = await start({ redisUrl: REDIS_URL, keyPrefix });
    assert.equal(await taskGauge(third, 'succeeded'), 2);
    assert.equal(await taskGauge(third, 'queued'), 0);
  });
});
