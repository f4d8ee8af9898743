import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { MemoryTaskStore, RedisTaskStore } from '../../../src/platform/store/index.js';
import type { TaskStore } from '../../../src/platform/store/index.js';
import { resolveLifetimes, type StoreLifetimes } from '../../../src/platform/store/task-store.js';
import { type Clock, systemClock } from '../../../src/platform/clock.js';
import type { StepCheckpoint, TaskRecord, TerminalState } from '../../../src/platform/task.js';
import { TERMINAL_STATES } from '../../../src/platform/task.js';

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

/** Returns a checkpoint after `steps` steps of one call each. */
function checkpointOf(steps: number): StepCheckpoint {
  const attempt = { provider: 'p1', model: 'm1', outcome: 'success' as const, latencyMs: 40 };
  return {
    steps,
    result: {
      text: `step ${steps}`,
      usage: { inputTokens: 100 * steps, outputTokens: 8 * steps },
      provider: 'p1',
      model: 'm1',
      attempts: Array.from({ length: steps }, () => attempt),
      timeToFirstTokenMs: 12.5,
    },
  };
}

type Lifetimes = StoreLifetimes;

/** A store whose time `advance` moves on: a manual clock in memory, real waits on Redis. */
interface TimedStore {
  store: TaskStore;
  advance: (ms: number) => Promise<void>;
}

interface StoreDriver {
  name: string;
  make: (keyPrefix: string) => TaskStore;
  makeTimed: (keyPrefix: string, lifetimes: Lifetimes) => TimedStore;
  /** True when two stores made with one prefix share their tasks, each on its own connection. */
  sharesPrefix: boolean;
}

function manualClock(): Clock & { advance: (ms: number) => void } {
  let now = 1_000_000;
  return {
    ...systemClock,
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

const drivers: StoreDriver[] = [
  {
    name: 'MemoryTaskStore',
    make: () => new MemoryTaskStore(),
    makeTimed: (_keyPrefix, lifetimes) => {
      const clock = manualClock();
      const store = new MemoryTaskStore({ ...lifetimes, clock });
      return { store, advance: async (ms) => clock.advance(ms) };
    },
    sharesPrefix: false,
  },
  {
    name: 'RedisTaskStore',
    make: (keyPrefix) => new RedisTaskStore({ redis: REDIS_URL, keyPrefix }),
    makeTimed: (keyPrefix, lifetimes) => ({
      store: new RedisTaskStore({ redis: REDIS_URL, keyPrefix, ...lifetimes }),
      advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    }),
    sharesPrefix: true,
  },
];

for (const driver of drivers) {
  describe(driver.name, () => {
    let store: TaskStore;
    let keyPrefix: string;

    beforeEach(() => {
      keyPrefix = `test:store:${randomUUID()}`;
      store = driver.make(keyPrefix);
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

    it('keeps a checkpoint for the next delivery', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      assert.equal(await store.saveCheckpoint('t1', checkpointOf(1)), true);
      assert.equal(await store.requeue('t1', { delivery: 1, costUsd: 0 }), true);
      const record = await store.markRunning('t1', 3_000);
      assert.deepEqual(record?.checkpoint, checkpointOf(1));
    });

    it('keeps the tool wait end of a checkpoint', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      const checkpoint = { ...checkpointOf(1), toolWaitEndsAt: 1_796_000_000_123 };
      assert.equal(await store.saveCheckpoint('t1', checkpoint), true);
      assert.equal(await store.requeue('t1', { delivery: 1, costUsd: 0 }), true);
      const record = await store.markRunning('t1', 3_000);
      assert.equal(record?.checkpoint?.toolWaitEndsAt, 1_796_000_000_123);
    });

    it('keeps the checkpoint with the most steps', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      assert.equal(await store.saveCheckpoint('t1', checkpointOf(2)), true);
      assert.equal(await store.saveCheckpoint('t1', checkpointOf(1)), false);
      assert.equal(await store.saveCheckpoint('t1', checkpointOf(2)), false);
      assert.equal((await store.getById('t1'))?.checkpoint?.steps, 2);
      assert.equal(await store.saveCheckpoint('t1', checkpointOf(3)), true);
      assert.equal((await store.getById('t1'))?.checkpoint?.steps, 3);
    });

    it('skips a checkpoint of a task not running', async () => {
      await store.create(queuedTask('t1'));
      assert.equal(await store.saveCheckpoint('t1', checkpointOf(1)), false);
      assert.equal(await store.saveCheckpoint('unknown', checkpointOf(1)), false);
      assert.equal((await store.getById('t1'))?.checkpoint, undefined);
      assert.equal(await store.getById('unknown'), undefined);
    });

    it('drops the checkpoint when the task ends', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      await store.saveCheckpoint('t1', checkpointOf(1));
      const read = await store.completeAndRead('t1', { state: 'failed', finishedAt: 3_000 });
      assert.equal(read.record?.checkpoint, undefined);
      assert.equal((await store.getById('t1'))?.checkpoint, undefined);
      assert.equal(await store.saveCheckpoint('t1', checkpointOf(2)), false);
    });

    it('rejects a checkpoint of 0 steps', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      await assert.rejects(store.saveCheckpoint('t1', checkpointOf(0)), /whole number >= 1, got 0/);
    });

    it('rejects a tool wait end of NaN', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      const checkpoint = { ...checkpointOf(1), toolWaitEndsAt: Number.NaN };
      await assert.rejects(store.saveCheckpoint('t1', checkpoint), /finite time in ms, got NaN/);
      assert.equal((await store.getById('t1'))?.checkpoint, undefined);
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

    it('reads a repeated completion as stored', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      const completion = {
        state: 'succeeded' as const,
        finishedAt: 3_000,
        costUsd: 0.5,
        completionId: 'write-1',
      };
      assert.equal(await store.complete('t1', completion), true);
      const repeat = await store.completeAndRead('t1', { ...completion, finishedAt: 3_500 });
      assert.equal(repeat.stored, true);
      assert.equal(repeat.record?.finishedAt, 3_000);
      assert.equal(await store.complete('t1', { ...completion, completionId: 'write-2' }), false);
      assert.equal(await store.complete('t1', { state: 'failed', finishedAt: 4_000 }), false);
      const counts = await store.accounting();
      assert.equal(counts.succeeded, 1);
      assert.equal(counts.running, 0);
      const record = await store.getById('t1');
      assert.equal(record?.state, 'succeeded');
      assert.equal(record !== undefined && 'completionId' in record, false);
    });

    it('requeues a running task', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      assert.equal(await store.requeue('t1', { delivery: 1, costUsd: 0 }), true);
      const record = await store.getById('t1');
      assert.equal(record?.state, 'queued');
      assert.equal(record?.costUsd, undefined);
      assert.equal(record?.deliveryCosts, undefined);
      assert.equal(record?.deliveries, 1);
      const counts = await store.accounting();
      assert.equal(counts.queued, 1);
      assert.equal(counts.running, 0);
    });

    it('adds failed delivery costs', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      assert.equal(await store.requeue('t1', { delivery: 1, costUsd: 0.125 }), true);
      await store.markRunning('t1', 3_000);
      assert.equal(await store.requeue('t1', { delivery: 2, costUsd: 0.25 }), true);
      const record = await store.markRunning('t1', 4_000);
      assert.equal(record?.costUsd, 0.375);
      assert.equal(record?.state, 'running');
      assert.equal((await store.accounting()).running, 1);
    });

    it('keeps each requeued delivery cost', async () => {
      await store.create(queuedTask('t1'));
      for (const [delivery, costUsd] of [
        [1, 0.125],
        [2, 0],
        [3, 0.000123456789],
      ] as const) {
        await store.markRunning('t1', 2_000 + delivery);
        await store.requeue('t1', { delivery, costUsd });
      }
      const running = await store.markRunning('t1', 5_000);
      const expected = [
        { delivery: 1, costUsd: 0.125 },
        { delivery: 3, costUsd: 0.000123456789 },
      ];
      assert.deepEqual(running?.deliveryCosts, expected);
      const completed = await store.completeAndRead('t1', {
        state: 'succeeded',
        finishedAt: 6_000,
        costUsd: 0.5,
      });
      assert.deepEqual(completed.record?.deliveryCosts, expected);
      assert.deepEqual((await store.getById('t1'))?.deliveryCosts, expected);
    });

    it('adds costs of one delivery together', async () => {
      await store.create(queuedTask('t1'));
      await store.requeue('t1', { delivery: 2, costUsd: 0.125 });
      await store.requeue('t1', { delivery: 1, costUsd: 0.5 });
      await store.requeue('t1', { delivery: 2, costUsd: 0.25 });
      assert.deepEqual((await store.getById('t1'))?.deliveryCosts, [
        { delivery: 1, costUsd: 0.5 },
        { delivery: 2, costUsd: 0.375 },
      ]);
    });

    it('adds requeued costs to the exact decimal', async () => {
      // Float addition makes the first pair 0.0006575000000000001.
      await store.create(queuedTask('t1'));
      await store.requeue('t1', { delivery: 1, costUsd: 0.0003375 });
      await store.requeue('t1', { delivery: 1, costUsd: 0.00032 });
      await store.create(queuedTask('t2'));
      await store.requeue('t2', { delivery: 1, costUsd: 1000.1 });
      await store.requeue('t2', { delivery: 1, costUsd: 0.0006575 });
      const first = await store.getById('t1');
      assert.equal(first?.costUsd, 0.0006575);
      assert.deepEqual(first?.deliveryCosts, [{ delivery: 1, costUsd: 0.0006575 }]);
      const second = await store.getById('t2');
      assert.equal(second?.costUsd, 1000.1006575);
      assert.deepEqual(second?.deliveryCosts, [{ delivery: 1, costUsd: 1000.1006575 }]);
    });

    it('keeps each requeued delivery busy time', async () => {
      await store.create(queuedTask('t1'));
      await store.markRunning('t1', 2_000);
      await store.requeue('t1', { delivery: 1, costUsd: 0.125, busyMs: 1_500 });
      await store.markRunning('t1', 4_000);
      // A delivery that spent nothing still records its busy time, and adds no cost.
      await store.requeue('t1', { delivery: 2, costUsd: 0, busyMs: 250 });
      await store.markRunning('t1', 5_000);
      await store.requeue('t1', { delivery: 3, costUsd: 0, busyMs: 0 });
      const running = await store.markRunning('t1', 6_000);
      const expected = [
        { delivery: 1, costUsd: 0.125, busyMs: 1_500 },
        { delivery: 2, costUsd: 0, busyMs: 250 },
      ];
      assert.deepEqual(running?.deliveryCosts, expected);
      assert.equal(running?.costUsd, 0.125);
      const completed = await store.completeAndRead('t1', {
        state: 'failed',
        finishedAt: 7_000,
        costUsd: 0.125,
      });
      assert.deepEqual(completed.record?.deliveryCosts, expected);
      assert.deepEqual((await store.getById('t1'))?.deliveryCosts, expected);
    });

    it('adds busy times of one delivery together', async () => {
      await store.create(queuedTask('t1'));
      await store.requeue('t1', { delivery: 1, costUsd: 0.25 });
      await store.requeue('t1', { delivery: 1, costUsd: 0, busyMs: 400 });
      await store.requeue('t1', { delivery: 1, costUsd: 0, busyMs: 100.5 });
      assert.deepEqual((await store.getById('t1'))?.deliveryCosts, [
        { delivery: 1, costUsd: 0.25, busyMs: 500.5 },
      ]);
    });

    it('rejects an invalid busy time', async () => {
      await store.create(queuedTask('t1'));
      for (const busyMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
        await assert.rejects(store.requeue('t1', { delivery: 1, costUsd: 0, busyMs }), RangeError);
      }
      assert.equal((await store.getById('t1'))?.state, 'queued');
    });

    it('stores the delivery busy times of a created task', async () => {
      const deliveryCosts = [
        { delivery: 1, costUsd: 0.25, busyMs: 900 },
        { delivery: 2, costUsd: 0, busyMs: 30 },
      ];
      await store.create({ ...queuedTask('t1'), deliveries: 2, costUsd: 0.25, deliveryCosts });
      assert.deepEqual((await store.getById('t1'))?.deliveryCosts, deliveryCosts);
    });

    it('stores the delivery costs of a created task', async () => {
      const deliveryCosts = [{ delivery: 1, costUsd: 0.25 }];
      await store.create({ ...queuedTask('t1'), deliveries: 1, costUsd: 0.25, deliveryCosts });
      assert.deepEqual((await store.getById('t1'))?.deliveryCosts, deliveryCosts);
    });

    it('adds small costs precisely', async () => {
      await store.create(queuedTask('t1'));
      await store.requeue('t1', { delivery: 1, costUsd: 0.000123456789 });
      await store.requeue('t1', { delivery: 2, costUsd: 0.0000031 });
      const record = await store.getById('t1');
      const costUsd = record?.costUsd ?? Number.NaN;
      assert.ok(Math.abs(costUsd - 0.000126556789) < 1e-15, `cost ${costUsd}`);
      assert.equal((await store.accounting()).queued, 1);
    });

    it('skips unknown and terminal tasks', async () => {
      await store.create(queuedTask('t1'));
      await store.complete('t1', { state: 'succeeded', finishedAt: 3_000, costUsd: 0.5 });
      assert.equal(await store.requeue('t1', { delivery: 1, costUsd: 0.25 }), false);
      assert.equal(await store.requeue('missing', { delivery: 1, costUsd: 0.25 }), false);
      const record = await store.getById('t1');
      assert.equal(record?.costUsd, 0.5);
      assert.equal(record?.state, 'succeeded');
      assert.equal(await store.getById('missing'), undefined);
    });

    for (const bad of [-0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      it(`rejects an added cost of ${bad}`, async () => {
        await store.create(queuedTask('t1'));
        await assert.rejects(store.requeue('t1', { delivery: 1, costUsd: bad }), (error: Error) => {
          assert.ok(error instanceof RangeError);
          assert.match(error.message, /task t1 must be a finite number of US dollars >= 0/);
          return true;
        });
        assert.equal((await store.getById('t1'))?.costUsd, undefined);
      });
    }

    for (const bad of [0, 1.5, Number.NaN]) {
      it(`rejects a delivery number of ${bad}`, async () => {
        await store.create(queuedTask('t1'));
        await assert.rejects(
          store.requeue('t1', { delivery: bad, costUsd: 0.25 }),
          (error: Error) => {
            assert.ok(error instanceof RangeError);
            assert.match(
              error.message,
              /delivery of the cost added to task t1 must be a whole number >= 1/,
            );
            assert.match(error.message, new RegExp(`got ${bad}$`));
            return true;
          },
        );
        const record = await store.getById('t1');
        assert.equal(record?.state, 'queued');
        assert.equal(record?.costUsd, undefined);
      });
    }

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

    for (const terminal of TERMINAL_STATES) {
      it(`rejects transitions from ${terminal}`, async () => {
        await store.create(queuedTask('t1'));
        await store.markRunning('t1', 2_000);
        assert.equal(await store.complete('t1', { state: terminal, finishedAt: 3_000 }), true);
        const countsBefore = await store.accounting();
        const recordBefore = await store.getById('t1');

        assert.equal(await store.markRunning('t1', 4_000), undefined);
        assert.equal(await store.complete('t1', { state: 'succeeded', finishedAt: 5_000 }), false);
        const read = await store.completeAndRead('t1', {
          state: 'failed',
          finishedAt: 6_000,
          error: { code: 'late', message: 'late failure' },
          costUsd: 9,
        });

        assert.equal(read.stored, false);
        assert.deepEqual(read.record, recordBefore);
        assert.deepEqual(await store.getById('t1'), recordBefore);
        assert.deepEqual(await store.accounting(), countsBefore);
        assert.equal(countsBefore[terminal], 1);
        assert.equal(countsBefore.running, 0);
      });
    }

    it('rejects transitions after terminal create', async () => {
      await store.create({ ...queuedTask('t1'), state: 'failed', finishedAt: 1_500 });
      assert.equal(await store.markRunning('t1', 2_000), undefined);
      assert.equal(await store.complete('t1', { state: 'succeeded', finishedAt: 3_000 }), false);
      const counts = await store.accounting();
      assert.equal(counts.accepted, 1);
      assert.equal(counts.failed, 1);
      assert.equal(counts.running, 0);
      assert.equal(counts.succeeded, 0);
      assert.equal((await store.getById('t1'))?.finishedAt, 1_500);
    });

    it('ignores an unknown id', async () => {
      assert.equal(await store.markRunning('missing', 2_000), undefined);
      assert.equal(await store.complete('missing', { state: 'failed', finishedAt: 3_000 }), false);
      assert.equal(await store.getById('missing'), undefined);
      assert.deepEqual(await store.accounting(), {
        accepted: 0,
        queued: 0,
        running: 0,
        succeeded: 0,
        failed: 0,
        dead_lettered: 0,
      });
    });

    it('counts every delivery once', async () => {
      await store.create(queuedTask('t1'));
      for (const delivery of [1, 2, 3]) {
        const record = await store.markRunning('t1', 2_000 + delivery);
        assert.equal(record?.deliveries, delivery);
        assert.equal(record?.startedAt, 2_000 + delivery);
        assert.equal(record?.state, 'running');
      }
      const stored = await store.getById('t1');
      assert.equal(stored?.deliveries, 3);
      assert.equal(stored?.startedAt, 2_003);
      const counts = await store.accounting();
      assert.equal(counts.running, 1);
      assert.equal(counts.queued, 0);
      assert.equal(counts.accepted, 1);
    });

    it('keeps fields a completion omits', async () => {
      const earlierResult = {
        text: 'partial',
        usage: { inputTokens: 1, outputTokens: 2 },
        provider: 'p',
        model: 'm',
        attempts: [],
        timeToFirstTokenMs: 3,
      };
      await store.create({ ...queuedTask('t1'), result: earlierResult, costUsd: 0.25 });
      const read = await store.completeAndRead('t1', {
        state: 'failed',
        finishedAt: 3_000,
        error: { code: 'provider_unavailable', message: 'no provider left' },
      });
      assert.equal(read.stored, true);
      assert.deepEqual(read.record?.result, earlierResult);
      assert.equal(read.record?.costUsd, 0.25);
      assert.equal(read.record?.error?.code, 'provider_unavailable');
      assert.deepEqual(await store.getById('t1'), read.record);
    });

    it('reads large and fractional numbers back exactly', async () => {
      const createdAt = 1_796_406_349_123;
      const startedAt = 1_796_406_349_123_456;
      const finishedAt = 1_796_406_349_123_457;
      const costUsd = 0.1 + 0.2;
      const result = {
        text: 'done',
        usage: { inputTokens: Number.MAX_SAFE_INTEGER, outputTokens: 123_456_789_012_345 },
        provider: 'p',
        model: 'm',
        attempts: [{ provider: 'p', model: 'm', outcome: 'success' as const, latencyMs: 0.125 }],
        timeToFirstTokenMs: 1e-7,
      };

      await store.create({ ...queuedTask('t1'), createdAt });
      const running = await store.markRunning('t1', startedAt);
      const read = await store.completeAndRead('t1', {
        state: 'succeeded',
        finishedAt,
        result,
        costUsd,
      });

      const expected: TaskRecord = {
        ...queuedTask('t1'),
        createdAt,
        state: 'succeeded',
        startedAt,
        finishedAt,
        deliveries: 1,
        result,
        costUsd,
      };
      assert.equal(running?.createdAt, createdAt);
      assert.equal(running?.startedAt, startedAt);
      assert.deepEqual(read.record, expected);
      assert.deepEqual(await store.getById('t1'), expected);
    });

    it('keeps counts consistent under concurrent transitions', async () => {
      // A second store on its own connection races the first, as a gateway and a worker do.
      const peer = driver.sharesPrefix ? driver.make(keyPrefix) : store;
      const ids = Array.from({ length: 40 }, (_, index) => `t${index}`);
      const raceOne = async (id: string, index: number) => {
        const early: TerminalState = index % 2 === 0 ? 'succeeded' : 'failed';
        const [firstStart, earlyStored, secondStart, lateStored] = await Promise.all([
          store.markRunning(id, 2_000),
          peer.complete(id, { state: early, finishedAt: 3_000 }),
          peer.markRunning(id, 2_500),
          store.complete(id, { state: 'dead_lettered', finishedAt: 3_500 }),
        ]);
        const starts = [firstStart, secondStart].filter((start) => start !== undefined).length;
        return {
          id,
          earlyStored,
          lateStored,
          winner: earlyStored ? early : ('dead_lettered' as TerminalState),
          starts,
        };
      };

      for (const id of ids) await store.create(queuedTask(id));
      let races: Awaited<ReturnType<typeof raceOne>>[];
      try {
        races = await Promise.all(ids.map(raceOne));
      } finally {
        if (peer !== store) await peer.close();
      }

      const expected: Record<TerminalState, number> = { succeeded: 0, failed: 0, dead_lettered: 0 };
      for (const race of races) {
        const record = await store.getById(race.id);
        assert.notEqual(
          race.earlyStored,
          race.lateStored,
          `${race.id}: exactly one complete stored`,
        );
        assert.equal(record?.state, race.winner, race.id);
        assert.equal(record?.deliveries, race.starts, race.id);
        expected[race.winner] += 1;
      }
      const counts = await store.accounting();
      const inStates =
        counts.queued + counts.running + counts.succeeded + counts.failed + counts.dead_lettered;
      assert.equal(counts.accepted, ids.length);
      assert.equal(inStates, counts.accepted);
      assert.equal(counts.succeeded, expected.succeeded);
      assert.equal(counts.failed, expected.failed);
      assert.equal(counts.dead_lettered, expected.dead_lettered);
      assert.equal(counts.running, 0);
      assert.equal(counts.queued, 0);
    });

    it('releases a key bound to the task', async () => {
      await store.claimIdempotencyKey('tenant-alpha', 'key-2', 'a');
      await store.releaseIdempotencyKey('tenant-alpha', 'key-2', 'other');
      assert.equal(await store.claimIdempotencyKey('tenant-alpha', 'key-2', 'b'), 'a');
      await store.releaseIdempotencyKey('tenant-alpha', 'key-2', 'a');
      assert.equal(await store.claimIdempotencyKey('tenant-alpha', 'key-2', 'c'), 'c');
    });

    it('binds a claim racing a release', async () => {
      await store.claimIdempotencyKey('tenant-alpha', 'key-3', 'a');
      const [claimed] = await Promise.all([
        store.claimIdempotencyKey('tenant-alpha', 'key-3', 'b'),
        store.releaseIdempotencyKey('tenant-alpha', 'key-3', 'a'),
      ]);
      const later = await store.claimIdempotencyKey('tenant-alpha', 'key-3', 'c');
      // The claim saw a's binding or bound the key to b, and a later claim agrees.
      const expected = claimed === 'a' ? ['a', 'c'] : ['b', 'b'];
      assert.deepEqual([claimed, later], expected);
    });

    it('binds an idempotency key per tenant', async () => {
      const first = await store.claimIdempotencyKey('tenant-alpha', 'key-1', 'a');
      const again = await store.claimIdempotencyKey('tenant-alpha', 'key-1', 'b');
      const other = await store.claimIdempotencyKey('tenant-beta', 'key-1', 'c');
      assert.equal(first, 'a');
      assert.equal(again, 'a');
      assert.equal(other, 'c');
    });

    describe('lifetimes', () => {
      // Short enough for real waits on Redis; the memory store runs them on a manual clock.
      const lifetimes = { claimTtlMs: 100, idempotencyTtlMs: 1_000, retentionMs: 300 };
      let timed: TimedStore;

      beforeEach(() => {
        timed = driver.makeTimed(`${keyPrefix}:timed`, lifetimes);
      });

      afterEach(async () => {
        if (timed.store instanceof RedisTaskStore) await timed.store.clear();
        await timed.store.close();
      });

      it('deletes terminal tasks after retention', async () => {
        await timed.store.create(queuedTask('t1'));
        await timed.store.markRunning('t1', 1_100);
        await timed.store.complete('t1', { state: 'succeeded', finishedAt: 1_200 });
        await timed.advance(150);
        assert.equal((await timed.store.get('tenant-alpha', 't1'))?.state, 'succeeded');
        await timed.advance(250);
        assert.equal(await timed.store.get('tenant-alpha', 't1'), undefined);
        assert.equal(await timed.store.getById('t1'), undefined);
        const counts = await timed.store.accounting();
        assert.deepEqual([counts.accepted, counts.succeeded], [1, 1]);
      });

      it('keeps unfinished tasks past retention', async () => {
        await timed.store.create(queuedTask('queued'));
        await timed.store.create(queuedTask('running'));
        await timed.store.markRunning('running', 1_100);
        await timed.advance(400);
        assert.equal((await timed.store.getById('queued'))?.state, 'queued');
        assert.equal((await timed.store.getById('running'))?.state, 'running');
      });

      it('expires tasks created terminal', async () => {
        await timed.store.create({ ...queuedTask('done'), state: 'failed', finishedAt: 1_000 });
        await timed.advance(400);
        assert.equal(await timed.store.getById('done'), undefined);
        assert.equal((await timed.store.accounting()).failed, 1);
      });

      it('frees an unstored claim after claimTtl', async () => {
        await timed.store.claimIdempotencyKey('tenant-alpha', 'key-t', 'a');
        await timed.advance(50);
        assert.equal(await timed.store.claimIdempotencyKey('tenant-alpha', 'key-t', 'b'), 'a');
        await timed.advance(100);
        assert.equal(await timed.store.claimIdempotencyKey('tenant-alpha', 'key-t', 'c'), 'c');
      });

      it('binds a key while its task runs', async () => {
        await timed.store.claimIdempotencyKey('tenant-alpha', 'key-r', 'long');
        await timed.store.create(queuedTask('long'), 'key-r');
        await timed.store.markRunning('long', 1_100);
        // Past the claim TTL and the retention, as a long task that has not ended.
        await timed.advance(400);
        assert.equal(await timed.store.claimIdempotencyKey('tenant-alpha', 'key-r', 'b'), 'long');
      });

      it('expires a key with its task', async () => {
        await timed.store.claimIdempotencyKey('tenant-alpha', 'key-e', 'ends');
        await timed.store.create(queuedTask('ends'), 'key-e');
        await timed.store.complete('ends', { state: 'succeeded', finishedAt: 1_200 });
        await timed.advance(150);
        assert.equal(await timed.store.claimIdempotencyKey('tenant-alpha', 'key-e', 'b'), 'ends');
        await timed.advance(250);
        assert.equal(await timed.store.getById('ends'), undefined);
        assert.equal(await timed.store.claimIdempotencyKey('tenant-alpha', 'key-e', 'c'), 'c');
      });

      it('expires a key with a task created terminal', async () => {
        await timed.store.claimIdempotencyKey('tenant-alpha', 'key-f', 'failed');
        const failed = { ...queuedTask('failed'), state: 'failed' as const, finishedAt: 1_000 };
        await timed.store.create(failed, 'key-f');
        await timed.advance(200);
        assert.equal(await timed.store.claimIdempotencyKey('tenant-alpha', 'key-f', 'b'), 'failed');
        await timed.advance(200);
        assert.equal(await timed.store.claimIdempotencyKey('tenant-alpha', 'key-f', 'c'), 'c');
      });

      it('frees a key of a task that never ends', async () => {
        await timed.store.claimIdempotencyKey('tenant-alpha', 'key-n', 'stuck');
        await timed.store.create(queuedTask('stuck'), 'key-n');
        await timed.advance(1_100);
        assert.equal(await timed.store.claimIdempotencyKey('tenant-alpha', 'key-n', 'b'), 'b');
      });

      it('leaves a key another task took', async () => {
        await timed.store.claimIdempotencyKey('tenant-alpha', 'key-o', 'lost');
        await timed.advance(150);
        // The claim expired before its task was stored, and a retry took the key.
        assert.equal(await timed.store.claimIdempotencyKey('tenant-alpha', 'key-o', 'b'), 'b');
        await timed.store.create(queuedTask('lost'), 'key-o');
        await timed.store.complete('lost', { state: 'failed', finishedAt: 1_300 });
        await timed.advance(50);
        assert.equal(await timed.store.claimIdempotencyKey('tenant-alpha', 'key-o', 'c'), 'b');
      });
    });
  });
}

describe('store lifetimes', () => {
  it('defaults to a minute, a day and a day', () => {
    assert.deepEqual(resolveLifetimes({}), {
      claimTtlMs: 60_000,
      idempotencyTtlMs: 86_400_000,
      retentionMs: 86_400_000,
    });
  });

  it('rejects a retention of 0', () => {
    assert.throws(() => resolveLifetimes({ retentionMs: 0 }), {
      name: 'RangeError',
      message: 'retentionMs must be a positive integer of ms, got 0',
    });
  });
});
