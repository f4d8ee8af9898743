import assert from 'node:assert/strict';

import { storeJobEnd } from '../../../src/platform/runtime/queue-reconciler.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import type { TaskRecord } from '../../../src/platform/task.js';

const clock = {
  now: () => 5_000,
  monotonic: () => 5_000,
  setTimeout,
  clearTimeout,
  sleep: async () => undefined,
};

function runningTask(id: string): TaskRecord {
  return {
    id,
    tenantId: 'tenant-alpha',
    request: { route: 'chat', maxOutputTokens: 16, mode: 'async', priority: 'standard' },
    state: 'running',
    createdAt: 1_000,
    startedAt: 2_000,
    deliveries: 1,
  };
}

/** Waits for the store write that storeJobEnd starts without awaiting. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('storeJobEnd', () => {
  it('stores a job the queue failed as failed', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t1'));
    storeJobEnd(store, clock, {
      id: 't1',
      state: 'failed',
      message: 'job stalled more than 1 times',
    });
    await settle();
    const task = await store.getById('t1');
    assert.equal(task?.state, 'failed');
    assert.equal(task?.finishedAt, 5_000);
    assert.deepEqual(task?.error, {
      code: 'queue_failed',
      message: 'job stalled more than 1 times',
    });
  });

  it('stores a dead-lettered job as dead_lettered', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t2'));
    storeJobEnd(store, clock, { id: 't2', state: 'dead_lettered', message: 'attempts exhausted' });
    await settle();
    const task = await store.getById('t2');
    assert.equal(task?.state, 'dead_lettered');
    assert.equal(task?.error?.code, 'dead_lettered');
  });

  it('passes the stored record to onStored', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t4'));
    const stored: TaskRecord[] = [];
    storeJobEnd(store, clock, { id: 't4', state: 'failed', message: 'stalled' }, (record) =>
      stored.push(record),
    );
    await settle();
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.id, 't4');
    assert.equal(stored[0]?.state, 'failed');
  });

  it('keeps the state of a task already terminal', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t3'));
    await store.complete('t3', { state: 'succeeded', finishedAt: 4_000, costUsd: 0.01 });
    const stored: TaskRecord[] = [];
    storeJobEnd(store, clock, { id: 't3', state: 'failed', message: 'late event' }, (record) =>
      stored.push(record),
    );
    await settle();
    assert.equal(stored.length, 0);
    const task = await store.getById('t3');
    assert.equal(task?.state, 'succeeded');
    assert.equal(task?.finishedAt, 4_000);
    assert.equal(task?.error, undefined);
  });
});
