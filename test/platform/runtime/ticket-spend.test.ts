import assert from 'node:assert/strict';

import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import type { AdmissionTicket, RunSpend } from '../../../src/platform/admission/types.js';
import { systemClock } from '../../../src/platform/clock.js';
import { PriceTable } from '../../../src/platform/cost/price-table.js';
import { isRouterError, RouterError } from '../../../src/platform/router/router-errors.js';
import { MemoryCostLedger } from '../../../src/platform/cost/memory-ledger.js';
import { isDeferError, NonRetryableError } from '../../../src/platform/queue/index.js';
import { costEntryOf } from '../../../src/platform/runtime/cost-entry.js';
import {
  type ModelRouterPort,
  SpentTokensError,
  spentTokenCostOf,
} from '../../../src/platform/runtime/model-router.js';
import { RouterModelPort } from '../../../src/platform/runtime/router-port.js';
import { createTaskHandler } from '../../../src/platform/runtime/task-consumer.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { type TicketCharger, TicketSpend } from '../../../src/platform/runtime/ticket-spend.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import type { TaskRecord } from '../../../src/platform/task.js';
import { REQUEST, type Rig, rejectionOf, route, startRig } from '../router/router-fixtures.js';

const TENANT = {
  id: 'tenant-alpha',
  requestsPerMinute: 100,
  tokensPerMinute: 100_000,
  maxInFlight: 5,
  budgetUsd: 1,
};

async function admitted(admission: MemoryAdmissionBackend): Promise<AdmissionTicket> {
  const decision = await admission.admit({ tenant: TENANT, tokens: 100, maxCostUsd: 0.5 });
  assert.ok(decision.admitted);
  return decision.ticket;
}

/** Stores task `id` of TENANT as queued, with `request` fields over an async chat request. */
async function createQueuedTask(
  store: MemoryTaskStore,
  id: string,
  request: Partial<TaskRecord['request']> = {},
): Promise<void> {
  await store.create({
    id,
    tenantId: TENANT.id,
    request: {
      route: 'chat',
      maxOutputTokens: 16,
      mode: 'async',
      priority: 'standard',
      ...request,
    },
    state: 'queued',
    createdAt: Date.now(),
    deliveries: 0,
  });
}

/** Builds the queue job of delivery `attempt` of task `id`. */
function delivery(id: string, ticket: AdmissionTicket, attempt: number) {
  return { id, data: { ticket }, attempt, deliveries: attempt, enqueuedAt: Date.now() };
}

/** Builds a model call output that cost `tokenCostUsd`. */
function runOutput(tokenCostUsd: number) {
  return {
    tokenCostUsd,
    result: {
      text: 'done',
      usage: { inputTokens: 1, outputTokens: 1 },
      provider: 'p',
      model: 'm',
      attempts: [],
      timeToFirstTokenMs: 1,
    },
  };
}

async function budgetError(promise: Promise<unknown>): Promise<RouterError> {
  const error = await rejectionOf(promise);
  assert.ok(isRouterError(error), `expected a RouterError, got ${String(error)}`);
  return error;
}

/** Returns a charger whose first charge fails, as when Redis times out, and whose later ones apply. */
function failingOnce(admission: MemoryAdmissionBackend): TicketCharger {
  let calls = 0;
  return {
    charge: (ticket, runSpend) => {
      calls += 1;
      if (calls === 1) return Promise.reject(new Error('redis timed out'));
      return admission.charge(ticket, runSpend);
    },
  };
}

describe('TicketSpend', () => {
  it('passes a retry the budget covers', async () => {
    const admission = new MemoryAdmissionBackend();
    const spend = new TicketSpend(admission, await admitted(admission), 1);
    await spend.charge(0.25);
    assert.equal((await admission.usage(TENANT)).spentUsd, 0.25);
  });

  it('stops a retry past the budget', async () => {
    const admission = new MemoryAdmissionBackend();
    const spend = new TicketSpend(admission, await admitted(admission), 1);
    const error = await budgetError(spend.charge(0.75));
    assert.equal(error.code, 'budget_exhausted');
    assert.equal(error.httpStatus, 429);
    assert.equal(error.retryAfterMs, 60_000);
    assert.match(error.message, /tenant-alpha does not cover another provider call/);
    assert.match(error.message, /retry after 60 s.*or raise budgetUsd in the tenants file$/);
    // The spend is real, so it stays charged.
    assert.equal((await admission.usage(TENANT)).spentUsd, 0.75);
  });

  it('charges only the uncharged rest', async () => {
    const admission = new MemoryAdmissionBackend();
    const spend = new TicketSpend(admission, await admitted(admission), 1);
    await spend.charge(0.25);
    await spend.chargeRest(0.375);
    await spend.chargeRest(0.375);
    assert.equal((await admission.usage(TENANT)).spentUsd, 0.375);
  });

  it('lets the call go on when a charge fails', async () => {
    const admission = new MemoryAdmissionBackend();
    const ticket = await admitted(admission);
    const errors: string[] = [];
    const failing = {
      charge: () => Promise.reject(new Error('redis timed out')),
    };
    const spend = new TicketSpend(failing, ticket, 1, (error, failed) =>
      errors.push(`${failed.id === ticket.id} ${(error as Error).message}`),
    );
    await spend.charge(0.75);
    await spend.chargeRest(1);
    assert.deepEqual(errors, ['true redis timed out', 'true redis timed out']);
  });

  it('takes a failed charge with the next one', async () => {
    const admission = new MemoryAdmissionBackend();
    const ticket = await admitted(admission);
    const spend = new TicketSpend(failingOnce(admission), ticket, 1, () => undefined);
    await spend.charge(0.25);
    await spend.charge(0.125);
    assert.equal((await admission.usage(TENANT)).spentUsd, 0.375);
  });

  it('resends a failed charge at the end of a step', async () => {
    const admission = new MemoryAdmissionBackend();
    const ticket = await admitted(admission);
    const spend = new TicketSpend(failingOnce(admission), ticket, 1, () => undefined);
    await spend.charge(0.25);
    // The step's spend equals what the failed charge sent, and this charge takes it.
    await spend.chargeRest(0.25);
    assert.equal((await admission.usage(TENANT)).spentUsd, 0.25);
  });

  it('charges once after a lost reply', async () => {
    const admission = new MemoryAdmissionBackend();
    const ticket = await admitted(admission);
    // Redis applies the first charge, but its reply never arrives.
    let calls = 0;
    const lossy: TicketCharger = {
      charge: async (charged, runSpend) => {
        calls += 1;
        const outcome = await admission.charge(charged, runSpend);
        if (calls === 1) throw new Error('connection reset before the reply');
        return outcome;
      },
    };
    const spend = new TicketSpend(lossy, ticket, 1, () => undefined);
    await spend.charge(0.25);
    await spend.chargeRest(0.25);
    assert.equal((await admission.settle(ticket, { run: 1, spentUsd: 0.25 })).outcome, 'applied');
    assert.deepEqual(await admission.usage(TENANT), {
      inFlight: 0,
      reservedUsd: 0,
      spentUsd: 0.25,
    });
  });

  it('passes a closed ticket', async () => {
    const admission = new MemoryAdmissionBackend();
    const ticket = await admitted(admission);
    await admission.settle(ticket, { run: 1, spentUsd: 0.125 });
    const spend = new TicketSpend(admission, ticket, 1);
    await spend.charge(5);
    assert.equal((await admission.usage(TENANT)).spentUsd, 0.125);
  });
});

describe('lost charge reply in a delivery', () => {
  it('bills the tenant what the task cost', async () => {
    const store = new MemoryTaskStore();
    const backend = new MemoryAdmissionBackend();
    // Every charge is applied, but the first reply is lost, as when Redis restarts.
    let charges = 0;
    const admission = {
      settle: backend.settle.bind(backend),
      release: backend.release.bind(backend),
      charge: async (ticket: AdmissionTicket, runSpend: RunSpend) => {
        charges += 1;
        const outcome = await backend.charge(ticket, runSpend);
        if (charges === 1) throw new Error('connection reset before the reply');
        return outcome;
      },
    };
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });

    const decision = await backend.admit({ tenant: TENANT, tokens: 100, maxCostUsd: 0.5 });
    assert.ok(decision.admitted);
    await createQueuedTask(store, 't4');

    const handler = createTaskHandler({
      store,
      router: {
        // A failed attempt cost 0.125 before the retry; the whole call cost 0.5.
        call: async (input) => {
          await input.beforeRetry?.(0.125);
          return runOutput(0.5);
        },
      },
      finisher,
      clock: systemClock,
      maxAttempts: 3,
    });

    await handler(delivery('t4', decision.ticket, 1));
    assert.equal((await store.getById('t4'))?.costUsd, 0.5);
    assert.deepEqual(await backend.usage(TENANT), {
      inFlight: 0,
      reservedUsd: 0,
      spentUsd: 0.5,
    });
  });
});

describe('budget before a redelivery', () => {
  it('fails an unaffordable redelivery', async () => {
    const store = new MemoryTaskStore();
    const admission = new MemoryAdmissionBackend();
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    // The reservation takes the whole budget, so any spend leaves no room for a retry.
    const decision = await admission.admit({ tenant: TENANT, tokens: 100, maxCostUsd: 1 });
    assert.ok(decision.admitted);
    await createQueuedTask(store, 't1');
    let calls = 0;
    const handler = createTaskHandler({
      store,
      router: {
        call: async () => {
          calls += 1;
          throw new SpentTokensError(new RouterError('upstream_error', 'stream cut'), 0.125);
        },
      },
      finisher,
      clock: systemClock,
      maxAttempts: 3,
    });
    const job = (attempt: number) => delivery('t1', decision.ticket, attempt);

    await assert.rejects(handler(job(1)), (error) => isRouterError(error));
    assert.equal((await admission.usage(TENANT)).spentUsd, 0.125);
    await assert.rejects(handler(job(2)), (error) => error instanceof NonRetryableError);
    assert.equal(calls, 1);
    const record = await store.getById('t1');
    assert.equal(record?.state, 'failed');
    assert.equal(record?.error?.code, 'budget_exhausted');
    assert.equal(record?.costUsd, 0.125);
    assert.deepEqual(await admission.usage(TENANT), {
      inFlight: 0,
      reservedUsd: 0,
      spentUsd: 0.125,
    });
  });
});

describe('charges of a delivery that never ended', () => {
  it('adds them when a later delivery settles', async () => {
    const store = new MemoryTaskStore();
    const admission = new MemoryAdmissionBackend();
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    const decision = await admission.admit({ tenant: TENANT, tokens: 100, maxCostUsd: 0.25 });
    assert.ok(decision.admitted);
    await createQueuedTask(store, 't2');
    const job = (attempt: number) => delivery('t2', decision.ticket, attempt);
    const success = runOutput(0.5);
    // The first delivery charges a failed attempt before its retry, then its process dies.
    let charged!: () => void;
    const chargedFirst = new Promise<void>((resolve) => {
      charged = resolve;
    });
    const dying = createTaskHandler({
      store,
      router: {
        call: async (input) => {
          await input.beforeRetry?.(0.125);
          charged();
          return new Promise<never>(() => undefined);
        },
      },
      finisher,
      clock: systemClock,
      maxAttempts: 3,
    });
    void dying(job(1));
    await chargedFirst;
    const later = createTaskHandler({
      store,
      router: { call: async () => success },
      finisher,
      clock: systemClock,
      maxAttempts: 3,
    });
    await later(job(2));

    assert.equal((await store.getById('t2'))?.costUsd, 0.625);
    assert.deepEqual(await admission.usage(TENANT), {
      inFlight: 0,
      reservedUsd: 0,
      spentUsd: 0.625,
    });
  });

  it('adds them once beside a requeued delivery', async () => {
    const store = new MemoryTaskStore();
    const backend = new MemoryAdmissionBackend();
    // Resolves `charged` once delivery 2, cut later by the shutdown, has charged its first step.
    let charged!: () => void;
    const chargedSecond = new Promise<void>((resolve) => {
      charged = resolve;
    });
    const admission = {
      settle: backend.settle.bind(backend),
      release: backend.release.bind(backend),
      charge: async (ticket: AdmissionTicket, runSpend: RunSpend) => {
        const outcome = await backend.charge(ticket, runSpend);
        if (runSpend.run === 2 && runSpend.spentUsd > 0) charged();
        return outcome;
      },
    };
    const ledger = new MemoryCostLedger();
    const finisher = new TaskFinisher({
      store,
      admission,
      clock: systemClock,
      onFinished: ({ record, executorCostUsd }) => {
        const entry = costEntryOf(record, executorCostUsd);
        if (entry !== undefined) void ledger.record(entry);
      },
    });
    const decision = await backend.admit({ tenant: TENANT, tokens: 100, maxCostUsd: 0.25 });
    assert.ok(decision.admitted);
    await createQueuedTask(store, 't5', { steps: 2, toolWaitMs: 60_000 });
    const job = (attempt: number) => delivery('t5', decision.ticket, attempt);
    const shutdown = new AbortController();
    const handler = (call: ModelRouterPort['call']) =>
      createTaskHandler({
        store,
        router: { call },
        finisher,
        clock: systemClock,
        maxAttempts: 3,
        shutdown: shutdown.signal,
        onShutdown: 'requeue',
      });

    // Delivery 1 charges a failed attempt of 0.125, then its process dies in the call.
    let chargedFirst!: () => void;
    const firstCharged = new Promise<void>((resolve) => {
      chargedFirst = resolve;
    });
    void handler(async (input) => {
      await input.beforeRetry?.(0.125);
      chargedFirst();
      return new Promise<never>(() => undefined);
    })(job(1));
    await firstCharged;
    // Delivery 2 finishes a step of 0.25 and is cut by the shutdown in its tool wait.
    const cut = handler(async () => runOutput(0.25))(job(2));
    await chargedSecond;
    shutdown.abort();
    await assert.rejects(cut, isDeferError);
    assert.equal((await store.getById('t5'))?.costUsd, 0.25);
    // Delivery 3 resumes after the step that delivery 2 finished and runs the second one.
    let lastCalls = 0;
    const last = createTaskHandler({
      store,
      router: {
        call: async () => {
          lastCalls += 1;
          return runOutput(0.25);
        },
      },
      finisher,
      clock: { ...systemClock, sleep: async () => undefined },
      maxAttempts: 3,
    });
    await last(job(3));

    const record = await store.getById('t5');
    assert.equal(record?.state, 'succeeded');
    assert.equal(record?.deliveries, 3);
    assert.equal(lastCalls, 1);
    assert.equal(record?.costUsd, 0.625);
    assert.equal((await ledger.summary()).totalUsd, 0.625);
    assert.deepEqual(await backend.usage(TENANT), {
      inFlight: 0,
      reservedUsd: 0,
      spentUsd: 0.625,
    });
  });
});

describe('failed last charge of a requeued delivery', () => {
  it('is charged when a later delivery settles', async () => {
    const store = new MemoryTaskStore();
    const backend = new MemoryAdmissionBackend();
    // Every charge of delivery 1 fails, as when Redis times out.
    const admission = {
      settle: backend.settle.bind(backend),
      release: backend.release.bind(backend),
      charge: async (ticket: AdmissionTicket, runSpend: RunSpend) => {
        if (runSpend.run === 1) throw new Error('redis timed out');
        return backend.charge(ticket, runSpend);
      },
    };
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    const decision = await backend.admit({ tenant: TENANT, tokens: 100, maxCostUsd: 0.25 });
    assert.ok(decision.admitted);
    await createQueuedTask(store, 't6');
    const job = (attempt: number) => delivery('t6', decision.ticket, attempt);
    let calls = 0;
    const handler = createTaskHandler({
      store,
      router: {
        call: async () => {
          calls += 1;
          if (calls > 1) return runOutput(0.5);
          throw new SpentTokensError(new RouterError('upstream_error', 'stream cut'), 0.25);
        },
      },
      finisher,
      clock: systemClock,
      maxAttempts: 3,
    });

    await assert.rejects(handler(job(1)), (error) => isRouterError(error));
    assert.equal((await backend.usage(TENANT)).spentUsd, 0);
    await handler(job(2));

    assert.equal((await store.getById('t6'))?.costUsd, 0.75);
    assert.deepEqual(await backend.usage(TENANT), {
      inFlight: 0,
      reservedUsd: 0,
      spentUsd: 0.75,
    });
  });
});

describe('finished steps of a delivery that never ended', () => {
  it('charges them before the next step', async () => {
    const store = new MemoryTaskStore();
    const admission = new MemoryAdmissionBackend();
    const finisher = new TaskFinisher({ store, admission, clock: systemClock });
    const decision = await admission.admit({ tenant: TENANT, tokens: 100, maxCostUsd: 0.5 });
    assert.ok(decision.admitted);
    await createQueuedTask(store, 't3', { steps: 3 });
    const step = runOutput(0.125);
    // Two steps finish; the third call never returns, as when the process dies there.
    let calls = 0;
    let thirdCalled!: () => void;
    const third = new Promise<void>((resolve) => {
      thirdCalled = resolve;
    });
    const handler = createTaskHandler({
      store,
      router: {
        call: async () => {
          calls += 1;
          if (calls < 3) return step;
          thirdCalled();
          return new Promise<never>(() => undefined);
        },
      },
      finisher,
      clock: systemClock,
      maxAttempts: 3,
    });
    void handler(delivery('t3', decision.ticket, 1));
    await third;
    assert.equal((await admission.usage(TENANT)).spentUsd, 0.25);
  });
});

describe('RouterModelPort retry hook', () => {
  let rig: Rig | undefined;

  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  const prices = new PriceTable({
    effectiveDate: '2026-01-01',
    source: 'test prices',
    models: {
      oa: { m1: { inputPerMillion: 1_000_000, outputPerMillion: 1_000_000 } },
      an: { m2: { inputPerMillion: 1_000_000, outputPerMillion: 1_000_000 } },
    },
    executors: {
      worker: { perVcpuHour: 0, perGbHour: 0, vcpuPerWorker: 0.25, memoryGbPerWorker: 0.5 },
      serverless: { perGbSecond: 0, perMillionRequests: 0, memoryMbPerFunction: 1024 },
    },
  });

  const input = {
    tenantId: 'tenant-alpha',
    route: 'chat',
    priority: REQUEST.priority,
    messages: [{ role: 'user' as const, content: 'hello' }],
    maxOutputTokens: REQUEST.maxOutputTokens,
    forcedOutputTokens: 60,
  };

  it('prices the attempts before a retry', async () => {
    rig = await startRig(
      {
        oa: () => ({ kind: 'stream', tokens: 60, cutAfter: 40 }),
        an: () => ({ kind: 'stream', tokens: 60 }),
      },
      route(),
    );
    const spent: number[] = [];
    const port = new RouterModelPort(rig.router, prices);
    const beforeRetry = async (spentUsd: number) => {
      spent.push(spentUsd);
    };
    const output = await port.call({ ...input, beforeRetry });
    // At $1 per token, the cut attempt cost its prompt plus 40 output tokens.
    const cutUsage = output.result.attempts[0]?.usage;
    assert.ok(cutUsage !== undefined);
    assert.deepEqual(spent, [cutUsage.inputTokens + 40]);
  });

  it('prices attempts after hook failure', async () => {
    rig = await startRig(
      {
        oa: () => ({ kind: 'stream', tokens: 60, cutAfter: 40 }),
        an: () => ({ kind: 'stream', tokens: 60 }),
      },
      route(),
    );
    const port = new RouterModelPort(rig.router, prices);
    const broken = new Error('hook failed');
    const error = await rejectionOf(
      port.call({ ...input, beforeRetry: () => Promise.reject(broken) }),
    );
    assert.equal((error as { cause?: unknown }).cause, broken);
    assert.ok(spentTokenCostOf(error) > 40);
  });

  it('keeps attempts of stopped call', async () => {
    rig = await startRig(
      {
        oa: () => ({ kind: 'stream', tokens: 60, cutAfter: 40 }),
        an: () => ({ kind: 'stream', tokens: 60 }),
      },
      route(),
    );
    const port = new RouterModelPort(rig.router, prices);
    const stop = new RouterError('budget_exhausted', 'budget spent');
    const error = await rejectionOf(
      port.call({ ...input, beforeRetry: () => Promise.reject(stop) }),
    );
    assert.ok(spentTokenCostOf(error) > 40);
    const cause = (error as { cause?: unknown }).cause;
    assert.ok(isRouterError(cause));
    assert.equal(cause.code, 'budget_exhausted');
    assert.deepEqual(
      cause.attempts.map((attempt) => attempt.provider),
      ['oa'],
    );
    assert.equal(rig.servers.an?.requests.length, 0);
  });
});
