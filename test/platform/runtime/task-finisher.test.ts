import assert from 'node:assert/strict';

import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
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

/**
 * Creates a ticket closer that records its calls and rejects with `failure` when given one.
 * A settle reports the settled run's spend and the earlier runs it was given.
 */
function ticketCloser(failure?: Error): TicketCloser & { calls: string[] } {
  const calls: string[] = [];
  const close = async (name: string) => {
    calls.push(name);
    if (failure !== undefined) throw failure;
  };
  return {
    calls,
    settle: async (_ticket, spend, earlierRuns = []) => {
      const earlier = earlierRuns.map((run) => ` ${run.run}:${run.spentUsd}`).join('');
      await close(`settle ${spend.run} ${spend.spentUsd}${earlier}`);
      return { outcome: 'applied', runs: [...earlierRuns, spend] };
    },
    release: async () => {
      await close('release');
      return { outcome: 'applied', runs: [] };
    },
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

describe('TaskFinisher of a later run', () => {
  const TENANT = {
    id: 'a',
    requestsPerMinute: 100,
    tokensPerMinute: 100_000,
    maxInFlight: 5,
    budgetUsd: 10,
  };

  /** Returns a store, a backend and a finisher whose ledger entries `finished` collects. */
  async function rig() {
    const store = new MemoryTaskStore();
    const admission = new MemoryAdmissionBackend();
    const finished: TaskRecord[] = [];
    const finisher = new TaskFinisher({
      store,
      admission,
      clock: systemClock,
      onFinished: ({ record }) => finished.push(record),
    });
    const decision = await admission.admit({ tenant: TENANT, tokens: 10, maxCostUsd: 1 });
    assert.ok(decision.admitted);
    return { store, admission, finisher, finished, ticket: decision.ticket };
  }

  it('adds what a killed run charged', async () => {
    const { store, admission, finisher, finished, ticket } = await rig();
    await runningTask(store);
    // Delivery 1 charges a finished step, then its process dies without requeueing.
    await finisher.ticketSpend(ticket, 1).chargeRest(0.125);
    const task = await store.markRunning('t1', 3_000);
    assert.ok(task);
    const record = await finisher.succeed(task, finisher.ticketSpend(ticket, 2), RUN);
    assert.equal(record.costUsd, 0.375);
    assert.equal(finished[0]?.costUsd, 0.375);
    assert.equal((await admission.usage(TENANT)).spentUsd, 0.375);
  });

  it('counts a requeued run once', async () => {
    const { store, admission, finisher, ticket } = await rig();
    await runningTask(store);
    // Delivery 1 goes back to the queue with its spend charged and recorded.
    await finisher.ticketSpend(ticket, 1).chargeRest(0.125);
    await store.requeue('t1', { delivery: 1, costUsd: 0.125 });
    const task = await store.markRunning('t1', 3_000);
    assert.ok(task);
    const record = await finisher.fail(task, finisher.ticketSpend(ticket, 2), {
      code: 'x',
      message: 'failed',
    });
    assert.equal(record.costUsd, 0.125);
    assert.equal((await admission.usage(TENANT)).spentUsd, 0.125);
  });

  it('charges a requeued run its recorded cost', async () => {
    const { store, admission, finisher, ticket } = await rig();
    await runningTask(store);
    // Delivery 1 charged 0.125, and its last charge of 0.25 failed before the requeue.
    await finisher.ticketSpend(ticket, 1).chargeRest(0.125);
    await store.requeue('t1', { delivery: 1, costUsd: 0.25 });
    const task = await store.markRunning('t1', 3_000);
    assert.ok(task);
    const record = await finisher.succeed(task, finisher.ticketSpend(ticket, 2), RUN);
    assert.equal(record.costUsd, 0.5);
    assert.equal((await admission.usage(TENANT)).spentUsd, 0.5);
  });

  it('passes recorded runs to the settle', async () => {
    const store = new MemoryTaskStore();
    const admission = ticketCloser();
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    await runningTask(store);
    await store.requeue('t1', { delivery: 1, costUsd: 0.125 });
    const task = await store.markRunning('t1', 3_000);
    assert.ok(task);
    await finisher.succeed(task, finisher.ticketSpend(TICKET, 2), RUN);
    assert.deepEqual(admission.calls, ['settle 2 0.25 1:0.125']);
  });

  it('stores recorded cost on settle failure', async () => {
    const store = new MemoryTaskStore();
    const finisher = new TaskFinisher({
      store,
      admission: ticketCloser(new Error('settle failed')),
      clock: systemClock,
    });
    await runningTask(store);
    await store.requeue('t1', { delivery: 1, costUsd: 0.125 });
    const task = await store.markRunning('t1', 3_000);
    assert.ok(task);
    await assert.rejects(finisher.succeed(task, finisher.ticketSpend(TICKET, 2), RUN), {
      message: 'settle failed',
    });
    const record = await store.getById('t1');
    assert.equal(record?.state, 'succeeded');
    assert.equal(record?.costUsd, 0.375);
  });
});
