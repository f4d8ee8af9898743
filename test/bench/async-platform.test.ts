import assert from 'node:assert/strict';

import { type AsyncBenchPlatform, waitForEnded } from '../../bench/async-platform.js';
import type { TaskStore } from '../../src/platform/store/task-store.js';

/** A platform whose store returns `counts` from accounting and has nothing else. */
function platformWith(counts: { succeeded: number; failed: number; deadLettered: number }) {
  const accounting = async () => ({
    accepted: counts.succeeded + counts.failed + counts.deadLettered,
    queued: 0,
    running: 0,
    succeeded: counts.succeeded,
    failed: counts.failed,
    dead_lettered: counts.deadLettered,
  });
  const store = { accounting } as unknown as TaskStore;
  return { gatewayUrl: 'http://127.0.0.1:1', store, close: async () => {} } as AsyncBenchPlatform;
}

describe('bench waitForEnded', () => {
  it('returns once enough tasks succeeded', async () => {
    const platform = platformWith({ succeeded: 12, failed: 0, deadLettered: 0 });
    await waitForEnded(platform, 2, 10, 1_000);
  });

  it('rejects a failed task', async () => {
    const platform = platformWith({ succeeded: 9, failed: 1, deadLettered: 0 });
    await assert.rejects(waitForEnded(platform, 0, 10, 1_000), {
      message:
        'the bench platform has 1 failed and 0 dead-lettered tasks; a round must time ' +
        'succeeded tasks only, so fix what fails them first',
    });
  });

  it('rejects a dead-lettered task', async () => {
    const platform = platformWith({ succeeded: 10, failed: 0, deadLettered: 2 });
    await assert.rejects(waitForEnded(platform, 0, 10, 1_000), /0 failed and 2 dead-lettered/);
  });

  it('times out short of the count', async () => {
    const platform = platformWith({ succeeded: 3, failed: 0, deadLettered: 0 });
    await assert.rejects(waitForEnded(platform, 0, 10, 50), {
      message: 'only 3 of 10 tasks ended in 0.05 s',
    });
  });
});
