/**
 * A platform process for the stop-with-purge test: Redis drivers under the key prefix from
 * PURGE_PREFIX, one worker process whose job locks are renewed every 500 ms, and one async
 * task still running when the platform stops with `purge: true`. The worker processes write
 * to this process's stdout and stderr, which the test reads.
 */
import { startPlatform } from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { getJson, postTask, waitFor } from './platform-support.js';

const platform = await startPlatform({
  topology: 'workers=1 serverless_burst=disabled',
  redisUrl: 'redis://127.0.0.1:6379',
  keyPrefix: String(process.env.PURGE_PREFIX),
  faultProxy: false,
  queue: { stallIntervalMs: 1000 },
});
const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
// The task's 10 s tool wait outlasts the 2.5 s drain, in which its lock is renewed about 5 times.
const task = { route: 'chat', maxOutputTokens: 8, mode: 'async', steps: 2, toolWaitMs: 10_000 };
const accepted = await postTask(platform.urls.gateway, key, task);
const url = `${platform.urls.gateway}/v1/tasks/${String(accepted.json.id)}`;
await waitFor(async () => (await getJson(url, key)).state === 'running', 10_000);
await platform.stop({ purge: true, drainTimeoutMs: 2500 });
process.exit(0);
