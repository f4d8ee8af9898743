import assert from 'node:assert/strict';

import { startInProcessWorkers } from '../../../src/platform/executors/worker-in-process.js';
import { createMemoryQueue } from '../../../src/platform/queue/index.js';

describe('startInProcessWorkers', () => {
  it('runs jobs and drains on stop', async () => {
    const queue = createMemoryQueue<number>({ name: 'in-process' });
    const seen: number[] = [];
    const workers = startInProcessWorkers({
      queue,
      concurrency: 2,
      handler: async (job) => {
        seen.push(job.data);
      },
    });
    await queue.enqueue('a', 1);
    await queue.enqueue('b', 2);
    await new Promise((resolve) => setImmediate(resolve));
    await workers.stop();
    assert.deepEqual(seen, [1, 2]);
    assert.equal((await queue.counts()).completed, 2);
    await queue.close();
  });

  it('rejects a zero concurrency', async () => {
    const queue = createMemoryQueue<number>({ name: 'in-process' });
    assert.throws(() => startInProcessWorkers({ queue, concurrency: 0, handler: async () => {} }), {
      name: 'RangeError',
      message: 'concurrency must be an integer >= 1, got 0',
    });
    await queue.close();
  });
});
