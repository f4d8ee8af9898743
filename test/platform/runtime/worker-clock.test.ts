import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { scaledClock, systemClock } from '../../../src/platform/clock.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { workerClock } from '../../../src/platform/runtime/worker-handler.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { postTask, sample, scrape, terminalRecord, waitFor } from './platform-support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const TIME_SCALE = 10;
const TOOL_WAIT_MS = 10_000;

describe('workerClock', () => {
  it('is the system clock by default', () => {
    assert.equal(workerClock({}), systemClock);
  });

  it('reports the platform clock time', () => {
    const platformClock = scaledClock(TIME_SCALE, systemClock, Date.now() - 60_000);
    const clock = workerClock({
      clock: { scale: platformClock.scale, originMs: platformClock.originMs },
    });
    const skewMs = Math.abs(clock.now() - platformClock.now());
    // One system clock millisecond apart is TIME_SCALE ms of scaled time.
    assert.ok(skewMs <= 2 * TIME_SCALE, `the clocks are ${skewMs} ms apart`);
  });
});

describe('platform on a scaled clock with Redis', function () {
  this.timeout(60_000);

  for (const workerProcesses of [0, 1]) {
    const where = workerProcesses === 0 ? 'in process' : 'in a worker process';

    it(`scales an async task ${where}`, async () => {
      const keyPrefix = `test-worker-clock-${randomUUID()}`;
      const redis = new Redis(REDIS_URL);
      let platform: Platform | undefined;
      try {
        // A clock that began 60 s ago runs 540 s ahead of the system clock.
        platform = await startPlatform({
          topology: 'workers=1 serverless_burst=disabled',
          redisUrl: REDIS_URL,
          keyPrefix,
          workerProcesses,
          clock: scaledClock(TIME_SCALE, systemClock, Date.now() - 60_000),
        });
        const key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
        const task = {
          route: 'chat',
          inputTokens: 100,
          maxOutputTokens: 8,
          forcedOutputTokens: 8,
          mode: 'async',
          toolWaitMs: TOOL_WAIT_MS,
        };
        const postedAt = Date.now();
        const reply = await postTask(platform.urls.gateway, key, task);
        assert.equal(reply.status, 202);
        const record = await terminalRecord(platform, String(reply.json.id), 20_000);
        const wallMs = Date.now() - postedAt;
        assert.equal(record.state, 'succeeded', JSON.stringify(record.error));

        // The tool wait lasts TOOL_WAIT_MS / TIME_SCALE of wall time.
        assert.ok(wallMs < TOOL_WAIT_MS / 2, `the task took ${wallMs} ms of wall time`);
        // The task's times are on the platform's scaled clock, wherever it ran.
        const scaledMs = (record.finishedAt ?? 0) - record.createdAt;
        assert.ok(scaledMs >= TOOL_WAIT_MS, `the task took ${scaledMs} ms of scaled time`);
        assert.ok(scaledMs < 6 * TOOL_WAIT_MS, `the task took ${scaledMs} ms of scaled time`);

        // A worker process sends its metrics in batches, so the sample may come later.
        let text = '';
        await waitFor(async () => {
          text = await scrape(platform?.urls.gateway ?? '');
          return sample(text, 'scalegate_queue_wait_seconds_count', 'priority="critical"') === 1;
        }, 5_000);
        const waitS = sample(text, 'scalegate_queue_wait_seconds_sum', 'priority="critical"');
        // The wait is not the scaled clock's lead over the job's system clock stamp.
        assert.ok(waitS !== undefined, 'the queue wait has a sum');
        assert.ok(waitS < 5, `queue wait ${waitS} s`);
      } finally {
        await platform?.stop({ drainTimeoutMs: 500, purge: true });
        const keys = await redis.keys(`${keyPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        await redis.quit();
      }
    });
  }
});
