import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import { MemoryRunSlots } from '../../../src/platform/admission/run-slots.js';
import { RedisAdmissionBackend } from '../../../src/platform/admission/redis-backend.js';
import type { AdmissionBackend, AdmissionTicket } from '../../../src/platform/admission/types.js';
import type { JobEndedEvent } from '../../../src/platform/executors/worker-protocol.js';
import { storeJobEnd, ticketOf } from '../../../src/platform/runtime/queue-reconciler.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import type { TenantLimits } from '../../../src/platform/tenants/index.js';

const clock = {
  now: () => 5_000,
  monotonic: () => 5_000,
  setTimeout,
  clearTimeout,
  sleep: async () => undefined,
};

/** A tenant that may hold one admitted task at a time. */
const ONE_IN_FLIGHT: TenantLimits = {
  id: 'tenant-alpha',
  requestsPerMinute: 1_000,
  tokensPerMinute: 1_000_000,
  maxInFlight: 1,
  budgetUsd: 10,
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

function ended(id: string, state: JobEndedEvent['state'], data: unknown = null): JobEndedEvent {
  return { id, state, message: `job ${id} ended by the queue`, data };
}

async function admitOne(admission: AdmissionBackend): Promise<AdmissionTicket> {
  const decision = await admission.admit({ tenant: ONE_IN_FLIGHT, tokens: 10, maxCostUsd: 0.5 });
  if (!decision.admitted) throw new Error(`admission rejected: ${decision.reason}`);
  return decision.ticket;
}

/** Waits for the store write that storeJobEnd starts without awaiting. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('storeJobEnd', () => {
  it('stores a job the queue failed as failed', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t1'));
    storeJobEnd(store, clock, ended('t1', 'failed'));
    await settle();
    const task = await store.getById('t1');
    assert.equal(task?.state, 'failed');
    assert.equal(task?.finishedAt, 5_000);
    assert.deepEqual(task?.error, { code: 'queue_failed', message: 'job t1 ended by the queue' });
  });

  it('explains a job the stall limit failed', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t1'));
    const event = { ...ended('t1', 'failed'), message: 'job stalled more than allowable limit' };
    storeJobEnd(store, clock, event);
    await settle();
    const task = await store.getById('t1');
    assert.equal(task?.error?.code, 'queue_failed');
    assert.equal(
      task?.error?.message,
      'the worker process running the task stopped before it ended, killed or unresponsive ' +
        "past its job lock, more often than the queue's stall limit allows, so the queue " +
        'failed it; resend the task with a new Idempotency-Key ' +
        '(queue: job stalled more than allowable limit)',
    );
  });

  it('frees the slot of a failed job', async () => {
    const store = new MemoryTaskStore();
    const admission = new MemoryAdmissionBackend();
    const runSlots = new MemoryRunSlots();
    await store.create(runningTask('t7'));
    const ticket = await admitOne(admission);
    await runSlots.acquire('tenant-alpha', 't7', 1, 60_000);
    storeJobEnd(store, clock, ended('t7', 'failed', { ticket }), { admission, runSlots });
    await settle();
    assert.equal(await runSlots.running('tenant-alpha'), 0);
    assert.equal(await runSlots.acquire('tenant-alpha', 't8', 1, 60_000), true);
  });

  it('stores a dead-lettered job as dead_lettered', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t2'));
    storeJobEnd(store, clock, ended('t2', 'dead_lettered'));
    await settle();
    const task = await store.getById('t2');
    assert.equal(task?.state, 'dead_lettered');
    assert.equal(task?.error?.code, 'dead_lettered');
  });

  it('passes the stored record to onStored', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t4'));
    const stored: TaskRecord[] = [];
    storeJobEnd(store, clock, ended('t4', 'failed'), { onStored: (record) => stored.push(record) });
    await settle();
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.id, 't4');
    assert.equal(stored[0]?.state, 'failed');
  });

  it('keeps the state and the ticket of a task already terminal', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t3'));
    await store.complete('t3', { state: 'succeeded', finishedAt: 4_000, costUsd: 0.01 });
    const admission = new MemoryAdmissionBackend({ clock });
    const ticket = await admitOne(admission);
    const stored: TaskRecord[] = [];
    storeJobEnd(store, clock, ended('t3', 'failed', { ticket }), {
      admission,
      onStored: (record) => stored.push(record),
    });
    await settle();
    assert.equal(stored.length, 0);
    const task = await store.getById('t3');
    assert.equal(task?.state, 'succeeded');
    assert.equal(task?.finishedAt, 4_000);
    assert.equal(task?.error, undefined);
    // The finisher that ended the task owns its ticket; this path leaves it open.
    assert.equal((await admission.usage({ id: 'tenant-alpha' })).inFlight, 1);
  });

  it('releases the admission ticket of the job payload', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t5'));
    const admission = new MemoryAdmissionBackend({ clock });
    const ticket = await admitOne(admission);
    assert.equal((await admission.usage({ id: 'tenant-alpha' })).reservedUsd, 0.5);
    storeJobEnd(store, clock, ended('t5', 'dead_lettered', { ticket }), { admission });
    await settle();
    const usage = await admission.usage({ id: 'tenant-alpha' });
    assert.equal(usage.inFlight, 0);
    assert.equal(usage.reservedUsd, 0);
    assert.equal(usage.spentUsd, 0);
  });

  it('releases a requeued task without charging it again', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t9'));
    const admission = new MemoryAdmissionBackend({ clock });
    const ticket = await admitOne(admission);
    // A failed delivery charges its spend and records it before the queue retries it.
    await admission.charge(ticket, { run: 1, spentUsd: 0.125 });
    await store.requeue('t9', { delivery: 1, costUsd: 0.125 });
    const stored: TaskRecord[] = [];
    storeJobEnd(store, clock, ended('t9', 'failed', { ticket }), {
      admission,
      onStored: (record) => stored.push(record),
    });
    await settle();
    assert.equal(stored[0]?.costUsd, 0.125);
    assert.deepEqual(await admission.usage({ id: 'tenant-alpha' }), {
      inFlight: 0,
      reservedUsd: 0,
      spentUsd: 0.125,
    });
  });

  it('counts the charges of a killed run', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t10'));
    const admission = new MemoryAdmissionBackend({ clock });
    const ticket = await admitOne(admission);
    // Run 1 went back to the queue at 0.125. Run 2 charged a finished step, then its
    // worker process was killed, and run 3 stalled too, having charged nothing.
    await admission.charge(ticket, { run: 1, spentUsd: 0.125 });
    await store.requeue('t10', { delivery: 1, costUsd: 0.125 });
    await admission.charge(ticket, { run: 2, spentUsd: 0.0625 });
    const stored: TaskRecord[] = [];
    storeJobEnd(store, clock, ended('t10', 'failed', { ticket }), {
      admission,
      onStored: (record) => stored.push(record),
    });
    await settle();
    assert.equal(stored[0]?.costUsd, 0.1875);
    assert.equal((await store.getById('t10'))?.costUsd, 0.1875);
    assert.equal((await admission.usage({ id: 'tenant-alpha' })).spentUsd, 0.1875);
  });

  it('charges what a failed charge left out', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t12'));
    const admission = new MemoryAdmissionBackend({ clock });
    const ticket = await admitOne(admission);
    // Run 1 went back to the queue at 0.125, but its last charge, of 0.0625 more, failed.
    await admission.charge(ticket, { run: 1, spentUsd: 0.0625 });
    await store.requeue('t12', { delivery: 1, costUsd: 0.125 });
    storeJobEnd(store, clock, ended('t12', 'failed', { ticket }), { admission });
    await settle();
    assert.equal((await store.getById('t12'))?.costUsd, 0.125);
    assert.deepEqual(await admission.usage({ id: 'tenant-alpha' }), {
      inFlight: 0,
      reservedUsd: 0,
      spentUsd: 0.125,
    });
  });

  it('keeps the record cost when settle fails', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t11'));
    await store.requeue('t11', { delivery: 1, costUsd: 0.125 });
    const ticket: AdmissionTicket = {
      id: 'ticket-t11',
      tenantId: 'tenant-alpha',
      reservedUsd: 0.5,
      tokens: 10,
    };
    const errors: string[] = [];
    storeJobEnd(store, clock, ended('t11', 'failed', { ticket }), {
      admission: { settle: () => Promise.reject(new Error('admission unavailable')) },
      onError: (error) => errors.push((error as Error).message),
    });
    await settle();
    assert.deepEqual(errors, ['admission unavailable']);
    const task = await store.getById('t11');
    assert.equal(task?.state, 'failed');
    assert.equal(task?.costUsd, 0.125);
  });

  it('reports a failed store write to onError', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t6'));
    const broken = Object.create(store) as MemoryTaskStore;
    broken.getById = (id) => store.getById(id);
    broken.completeAndRead = () => Promise.reject(new Error('store unavailable'));
    const admission = new MemoryAdmissionBackend({ clock });
    const ticket = await admitOne(admission);
    const errors: { message: string; id: string }[] = [];
    storeJobEnd(broken, clock, ended('t6', 'failed', { ticket }), {
      admission,
      onError: (error, event) => errors.push({ message: (error as Error).message, id: event.id }),
    });
    await settle();
    assert.deepEqual(errors, [{ message: 'store unavailable', id: 't6' }]);
    // The release goes first, because it reports the charges that the stored cost counts.
    assert.equal((await admission.usage({ id: 'tenant-alpha' })).inFlight, 0);
    assert.equal((await store.getById('t6'))?.state, 'running');
  });

  it('reports an error thrown by onStored to onError', async () => {
    const store = new MemoryTaskStore();
    await store.create(runningTask('t8'));
    const errors: string[] = [];
    storeJobEnd(store, clock, ended('t8', 'failed'), {
      onStored: () => {
        throw new Error('metrics sink closed');
      },
      onError: (error) => errors.push((error as Error).message),
    });
    await settle();
    assert.deepEqual(errors, ['metrics sink closed']);
    assert.equal((await store.getById('t8'))?.state, 'failed');
  });

  describe('on Redis at 127.0.0.1:6379', () => {
    let redis: Redis;
    let admission: RedisAdmissionBackend;

    before(() => {
      redis = new Redis(6379, '127.0.0.1');
    });

    beforeEach(() => {
      const keyPrefix = `test:reconciler:${randomUUID()}:`;
      admission = new RedisAdmissionBackend({ redis, clock, keyPrefix });
    });

    afterEach(() => admission.clear());

    after(() => redis.quit());

    it('gives a tenant at its in-flight cap its slot back', async () => {
      const store = new MemoryTaskStore();
      await store.create(runningTask('t7'));
      const ticket = await admitOne(admission);
      const blocked = await admission.admit({ tenant: ONE_IN_FLIGHT, tokens: 10, maxCostUsd: 0.5 });
      assert.equal(blocked.admitted ? 'admitted' : blocked.reason, 'in_flight');
      storeJobEnd(store, clock, ended('t7', 'failed', { ticket }), { admission });
      await settle();
      const next = await admission.admit({ tenant: ONE_IN_FLIGHT, tokens: 10, maxCostUsd: 0.5 });
      assert.equal(next.admitted, true);
      assert.equal((await admission.usage({ id: 'tenant-alpha' })).inFlight, 1);
    });
  });
});

describe('ticketOf', () => {
  it('reads the ticket of a queued task payload', () => {
    const ticket = { id: 'k1', tenantId: 'tenant-alpha', reservedUsd: 0.25, tokens: 40 };
    assert.deepEqual(ticketOf({ ticket }), ticket);
  });

  it('returns undefined for payloads without a whole ticket', () => {
    assert.equal(ticketOf(null), undefined);
    assert.equal(ticketOf('ticket'), undefined);
    assert.equal(ticketOf({}), undefined);
    assert.equal(
      ticketOf({ ticket: { id: 'k1', tenantId: 'tenant-alpha', tokens: 40 } }),
      undefined,
    );
    assert.equal(
      ticketOf({ ticket: { id: 7, tenantId: 'tenant-alpha', reservedUsd: 0, tokens: 1 } }),
      undefined,
    );
  });
});
