import assert from 'node:assert/strict';

import { createBullmqQueue, createMemoryQueue } from '../../../src/platform/queue/index.js';

describe('queue options', () => {
  it('names the option, expected and received value', () => {
    assert.throws(() => createMemoryQueue({ name: 'q', stallIntervalMs: 1 }), {
      name: 'RangeError',
      message: 'stallIntervalMs must be an integer >= 10, got 1',
    });
  });

  it('rejects a name with a colon', () => {
    assert.throws(() => createMemoryQueue({ name: 'a:b' }), TypeError);
  });

  it('rejects a connection that is not a redis URL', () => {
    assert.throws(() => createBullmqQueue({ name: 'q', connection: 'http://127.0.0.1:6379' }), {
      name: 'TypeError',
      message: 'connection must use the redis: protocol, got "http:"',
    });
  });

  it('rejects an out-of-range priority', async () => {
    const queue = createMemoryQueue<null>({ name: 'q' });
    await assert.rejects(queue.enqueue('a', null, { priority: 0 }), {
      name: 'RangeError',
      message: 'priority must be an integer from 1 to 2097152, got 0',
    });
    await queue.close();
  });
});
