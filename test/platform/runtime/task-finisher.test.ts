import assert from 'node:assert/strict';

import type { AdmissionTicket } from '../../../src/platform/admission/types.js';
import { systemClock } from '../../../src/platform/clock.js';
import type { TicketCloser } from '../../../src/platform/runtime/task-finisher.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import type { TaskRecord } from '../../../src/platform/task.js';

const TICKET: AdmissionTicket = { id: 'k', tenantId: 'a', reservedUsd: 1, tokens: 10 };

const RUN = {
  result: {
    text: 'done',
    usage: { inputTokens: 1, outputTokens: 2 },
    provider: 'p',
    model: 'm',
    attempts: [],
    timeToFirstTokenMs: 1,
  },
  tokenCostUsd: 0.25,
};

/** Creates a ticket closer that records its calls and rejects with `failure` when given one. */
function ticketCloser(failure?: Error): TicketCloser & { calls: string[] } {
  const calls: string[] = [];
  const close = async (name: string) => {
    calls.push(name);
    if (failure !== undefined) throw failure;
    return 'applied';
  };
  return {
    calls,
    settle: (_ticket, spend) => close(`settle ${spend.run} ${spend.spentUsd}`),
    release: () => close('release'),
    charge: async (_ticket, spend) => {
      calls.push(`charge ${spend.run} ${spend.spentUsd}`);
      return { open: true, withinBudget: true };
    },
  };
}

async function runningTask(store: MemoryTaskStore): Promise<TaskRecord> {
  await store.create({
    id: 't1',
    tenantId: 'a',
    request: { route: 'r', maxOutputTokens: 1, mode: 'async', priority: 'batch' },
    state: 'queued',
    createdAt: 1_000,
    deliveries: 0,
  });
  const task = await store.markRunning('t1', 2_000);
  assert.ok(task);
  return task;
}

describe('TaskFinisher', () => {
  it('settles and stores a success', async () => {
    const store = new MemoryTaskStore();
    const admission = ticketCloser();
    const finished: TaskRecord[] = [];
    const finisher = new TaskFinisher({
      store,
      admission,
      clock: systemClock,
      onFinished: ({ record }) => finished.push(record),
    });
    const record = await finisher.succeed(
      await runningTask(store),
      finisher.ticketSpend(TICKET),
      RUN,
      {
        executorUsd: 0.5,
      },
    );
    assert.equal(record.state, 'succeeded');
    assert.equal(record.costUsd, 0.75);
    assert.deepEqual(admission.calls, ['settle 1 0.75']);
    assert.deepEqual(await store.getById('t1'), record);
    assert.equal(finished.length, 1);
  });

  it('rejects when settle rejects', async () => {
    const store = new MemoryTaskStore();
    const finisher = new TaskFinisher({
      store,
      admission: ticketCloser(new Error('settle failed')),
      clock: systemClock,
    });
    const task = await runningTask(store);
    const completeAndRead = store.completeAndRead.bind(store);
    store.completeAndRead = async (id, completion) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return completeAndRead(id, completion);
    };
    await assert.rejects(
      finisher.succeed(task, finisher.ticketSpend(TICKET), RUN),
      /settle failed/,
    );
    // The store write runs concurrently with the settle, and the call waits for it.
    assert.equal((await store.getById('t1'))?.state, 'succeeded');
  });

  it('rejects when the store rejects', async () => {
    const store = new MemoryTaskStore();
    store.completeAndRead = async () => {
      throw new Error('store unavailable');
    };
    const admission = ticketCloser();
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    const task = await runningTask(store);
    await assert.rejects(
      finisher.fail(task, finisher.ticketSpend(TICKET), { code: 'x', message: 'failed' }),
      /store unavailable/,
    );
    assert.deepEqual(admission.calls, ['settle 1 0']);
  });

  it('settles a failure with what it cost before failing', async () => {
    const store = new MemoryTaskStore();
    const admission = ticketCloser();
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    const task = await runningTask(store);
    const error = { code: 'stream_interrupted', message: 'cut' };
    const record = await finisher.fail(task, finisher.ticketSpend(TICKET), error, 'failed', {
      executorUsd: 0.5,
      tokenUsd: 0.125,
    });
    assert.equal(record.state, 'failed');
    assert.equal(record.costUsd, 0.625);
    assert.deepEqual(admission.calls, ['settle 1 0.625']);
  });

  it('settles a failure that cost nothing with 0', async () => {
    const store = new MemoryTaskStore();
    const admission = ticketCloser();
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    const record = await finisher.fail(await runningTask(store), finisher.ticketSpend(TICKET), {
      code: 'provider_unavailable',
      message: 'no candidate',
    });
    assert.equal(record.costUsd, 0);
    assert.deepEqual(admission.calls, ['settle 1 0']);
  });

  it('returns the earlier record when already terminal', async () => {
    const store = new MemoryTaskStore();
    const admission = ticketCloser();
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    const task = await runningTask(store);
    const first = await finisher.succeed(task, finisher.ticketSpend(TICKET), RUN);
    const second = await finisher.fail(task, finisher.ticketSpend(TICKET), {
      code: 'late',
      message: 'late failure',
    });
    assert.deepEqual(second, first);
    assert.equal(second.error, undefined);
    assert.deepEqual(admission.calls, ['settle 1 0.25', 'settle 1 0']);
  });
});
