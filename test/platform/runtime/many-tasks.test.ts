import assert from 'node:assert/strict';

import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import { postTask, waitFor } from './platform-support.js';

describe('startPlatform with many running tasks', () => {
  let platform: Platform | undefined;
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning.name);
  };

  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });

  afterEach(async () => {
    process.off('warning', onWarning);
    await platform?.stop({ drainTimeoutMs: 200 });
    platform = undefined;
  });

  it('emits no listener warning with 16 running tasks', async function () {
    this.timeout(30_000);
    const alpha = (await loadDemoKeys()).get('tenant-alpha') ?? '';
    platform = await startPlatform({
      topology: 'workers=16 serverless_burst=disabled',
      redisUrl: '',
    });
    const task = {
      route: 'bench',
      maxOutputTokens: 8,
      forcedOutputTokens: 1,
      mode: 'async',
      toolWaitMs: 500,
    };
    const gateway = platform.urls.gateway;
    const replies = await Promise.all(
      Array.from({ length: 16 }, () => postTask(gateway, alpha, task)),
    );
    assert.deepEqual(
      replies.map((reply) => reply.status),
      Array.from({ length: 16 }, () => 202),
    );
    const store = platform.store;
    await waitFor(async () => (await store.accounting()).succeeded === 16, 10_000);
    assert.deepEqual(warnings, []);
  });
});
