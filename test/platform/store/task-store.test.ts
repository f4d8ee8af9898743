import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { MemoryTaskStore, RedisTaskStore } from '../../../src/platform/store/index.js';
import type { TaskStore } from '../../../src/platform/store/index.js';
import type { TaskRecord } from '../../../src/platform/task.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

function queuedTask(id: string, tenantId = 'tenant-alpha'): TaskRecord {
  return {
    id,
    tenantId,
    request: { route: 'default', maxOutputTokens: 16, mode: 'async', priority: 'standard' },
    state: 'queued',
    createdAt: 1_000,
    deliveries: 0,
  };
}

const drivers: { name: string; make: () => TaskStore }[] = [
  { name: 'MemoryTaskStore', make: () => new MemoryTaskStore() },
  {
    name: 'RedisTaskStore',
    make: () => new RedisTaskStore({ redis: REDIS_URL, keyPrefix: `test:store:${randomUUID()}` }),
  },
];

for (const driver of drivers) {
  describe(driver.name, () => {
    let store: TaskStore;

    beforeEach(() => {
      store = driver.make();
    });

    afterEach(async () => {
      if (store instanceof RedisTaskStore) await store.clear();
      await store.close();
    });

    it('returns a task to its own tenant', async () => {
      await store.create(queuedTask('t1'));
      const record = await store.get('tenant-alpha', 't1');
      assert.equal(record?.id, 't1');
      assert.equal(record?.state, 'queued');
    });

    it('hides a task from another tenant', async () => {
      await store.create(queuedTask('t1'));
      assert.equal(await store.get('tenant-beta', 't1'), undefined);
    });

    it('rejects a duplicate task id', async () => {
      await store.create(queuedTask('t1'));
      await assert.rejects(store.create(queuedTask('t1')), RangeError);
    });

    it('counts deliveries when marked running', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      const record = await store.markRunning('t1', 3_000);
      assert.equal(record?.deliveries, 2);
      assert.equal(record?.startedAt, 3_000);
    });

    it('completes a task only once', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      const first = await store.complete('t1', {
        state: 'succeeded',
        finishedAt: 3_000,
        costUsd: 0.5,
      });
      const second = await store.complete('t1', { state: 'failed', finishedAt: 4_000 });
      assert.equal(first, true);
      assert.equal(second, false);
      const record = await store.get('tenant-alpha', 't1');
      assert.equal(record?.state, 'succeeded');
      assert.equal(record?.costUsd, 0.5);
    });

    it('returns the stored task from completeAndRead', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      const first = await store.completeAndRead('t1', {
        state: 'succeeded',
        finishedAt: 3_000,
        costUsd: 0.5,
      });
      const second = await store.completeAndRead('t1', { state: 'failed', finishedAt: 4_000 });
      assert.equal(first.stored, true);
      assert.equal(first.record?.state, 'succeeded');
      assert.equal(first.record?.costUsd, 0.5);
      assert.equal(first.record?.deliveries, 1);
      assert.equal(second.stored, false);
      assert.equal(second.record?.finishedAt, 3_000);
      const missing = await store.completeAndRead('missing', { state: 'failed', finishedAt: 1 });
      assert.deepEqual(missing, { stored: false, record: undefined });
    });

    it('keeps a stored task apart from the caller objects', async () => {
      const input = queuedTask('t1');
      input.request.messages = [{ role: 'user', content: 'original' }];
      await store.create(input);
      const created = input.request.messages[0];
      if (created !== undefined) created.content = 'changed after create';
      const read = await store.get('tenant-alpha', 't1');
      const readMessage = read?.request.messages?.[0];
      if (readMessage !== undefined) readMessage.content = 'changed after get';
      const running = await store.markRunning('t1', 2_000);
      if (running !== undefined) running.request.maxOutputTokens = 1;
      const again = await store.getById('t1');
      assert.equal(again?.request.messages?.[0]?.content, 'original');
      assert.equal(again?.request.maxOutputTokens, 16);
    });

    it('keeps a stored result apart from the completion and the read', async () => {
      await store.create(queuedTask('t1'));
      const attempt = { provider: 'p', model: 'm', outcome: 'success' as const, latencyMs: 5 };
      const result = {
        text: 'done',
        usage: { inputTokens: 3, outputTokens: 4 },
        provider: 'p',
        model: 'm',
        attempts: [attempt],
        timeToFirstTokenMs: 1,
      };
      const read = await store.completeAndRead('t1', {
        state: 'succeeded',
        finishedAt: 3_000,
        result,
      });
      attempt.latencyMs = 999;
      result.usage.outputTokens = 999;
      const readResult = read.record?.result;
      if (readResult !== undefined) readResult.text = 'changed after read';
      const stored = await store.get('tenant-alpha', 't1');
      assert.equal(stored?.result?.attempts[0]?.latencyMs, 5);
      assert.equal(stored?.result?.usage.outputTokens, 4);
      assert.equal(stored?.result?.text, 'done');
    });

    it('balances accepted against terminal states', async () => {
      const states = ['succeeded', 'failed', 'dead_lettered', 'succeeded'] as const;
      for (const [index, state] of states.entries()) {
        await store.create(queuedTask(`t${index}`));
        await store.markRunning(`t${index}`, 2_000);
        await store.complete(`t${index}`, { state, finishedAt: 3_000 });
      }
      await store.create(queuedTask('pending'));
      const counts = await store.accounting();
      assert.equal(counts.accepted, 5);
      assert.equal(counts.succeeded, 2);
      assert.equal(counts.failed, 1);
      assert.equal(counts.dead_lettered, 1);
      assert.equal(counts.queued, 1);
      assert.equal(counts.running, 0);
    });

    it('releases a key bound to the task', async () => {
      await store.claimIdempotencyKey('tenant-alpha', 'key-2', 'a');
      await store.releaseIdempotencyKey('tenant-alpha', 'key-2', 'other');
      assert.equal(await store.claimIdempotencyKey('tenant-alpha', 'key-2', 'b'), 'a');
      await store.releaseIdempotencyKey('tenant-alpha', 'key-2', 'a');
      assert.equal(await store.claimIdempotencyKey('tenant-alpha', 'key-2', 'c'), 'c');
    });

    it('binds an idempotency key per tenant', async () => {
      const first = await store.claimIdempotencyKey('tenant-alpha', 'key-1', 'a');
      const again = await store.claimIdempotencyKey('tenant-alpha', 'key-1', 'b');
      const other = await store.claimIdempotencyKey('tenant-beta', 'key-1', 'c');
      assert.equal(first, 'a');
      assert.equal(again, 'a');
      assert.equal(other, 'c');
    });
  });
}
