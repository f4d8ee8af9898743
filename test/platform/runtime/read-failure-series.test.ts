import assert from 'node:assert/strict';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { sample, scrape } from './platform-support.js';

describe('read failure counters of a new platform', function () {
  this.timeout(60_000);
  let platform: Platform | undefined;
  let text = '';

  before(async () => {
    platform = await startPlatform({
      topology: 'workers=1 serverless_burst=disabled',
      workerProcesses: 1,
      faultProxy: false,
      redisUrl: '',
    });
    text = await scrape(platform.urls.gateway);
  });

  after(async () => {
    await platform?.stop({ drainTimeoutMs: 500 });
  });

  for (const reason of ['error', 'timeout']) {
    it(`shows queue gauge ${reason} at 0`, () => {
      const labels = `queue="tasks",reason="${reason}"`;
      assert.equal(sample(text, 'scalegate_queue_gauge_read_failures_total', labels), 0);
    });

    it(`shows task count ${reason} at 0`, () => {
      const labels = `reason="${reason}"`;
      assert.equal(sample(text, 'scalegate_task_count_read_failures_total', labels), 0);
    });

    it(`shows tenant usage ${reason} at 0`, () => {
      const labels = `reason="${reason}"`;
      assert.equal(sample(text, 'scalegate_tenant_usage_read_failures_total', labels), 0);
    });
  }
});
