import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { clearFaults, getJson, postTask, setFaults, waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** Drivers of one run of the suite: memory, or Redis under a fresh key prefix. */
const DRIVERS = [
  { name: 'memory', redisUrl: '', keyPrefix: undefined },
  { name: 'Redis', redisUrl: REDIS_URL, keyPrefix: `test-deliveries-${randomUUID()}` },
] as const;

for (const drivers of DRIVERS) {
  describe(`GET /v1/tasks/:id deliveries, ${drivers.name} drivers`, () => {
    let platform: Platform;
    let key: string;

    before(async function () {
      this.timeout(30_000);
      key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      platform = await startPlatform({
        topology: 'workers=1 serverless_burst=disabled',
        redisUrl: drivers.redisUrl,
        keyPrefix: drivers.keyPrefix,
        workerProcesses: 1,
        queue: { maxAttempts: 3, backoffBaseMs: 20, backoffMaxMs: 50 },
      });
    });

    afterEach(async () => {
      for (const url of Object.values(platform.urls.providers)) await clearFaults(url);
    });

    after(async function () {
      this.timeout(20_000);
      await platform.stop({ drainTimeoutMs: 500, purge: true });
    });

    it('shows 1 for a sync task', async function () {
      this.timeout(20_000);
      const request = { route: 'chat', maxOutputTokens: 4, mode: 'sync' };
      const reply = await postTask(platform.urls.gateway, key, request);
      assert.equal(reply.status, 200);
      const view = await getJson(`${platform.urls.gateway}/v1/tasks/${reply.json.id}`, key);
      assert.equal(view.state, 'succeeded');
      assert.equal(view.deliveries, 1);
    });

    it('counts every delivery of a retried task', async function () {
      this.timeout(30_000);
      // Every attempt streams 2 tokens and then loses its connection, so each of the
      // 3 deliveries fails and the last one dead-letters the task.
      for (const url of Object.values(platform.urls.providers)) {
        await setFaults(url, { streamCutAfterTokens: 2 });
      }
      const request = { route: 'chat', maxOutputTokens: 8, forcedOutputTokens: 8, mode: 'async' };
      const reply = await postTask(platform.urls.gateway, key, request);
      assert.equal(reply.status, 202);
      const url = `${platform.urls.gateway}/v1/tasks/${reply.json.id}`;
      await waitFor(async () => (await getJson(url, key)).state === 'dead_lettered', 20_000);
      const view = await getJson(url, key);
      assert.equal(view.deliveries, 3);
    });
  });
}
