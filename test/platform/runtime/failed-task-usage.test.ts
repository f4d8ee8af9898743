import assert from 'node:assert/strict';

import { type MockProvider, startMockProvider } from '../../../src/faults/providers/index.js';
import {
  loadProviderCatalog,
  type ProviderProfile,
} from '../../../src/faults/providers/profile.js';
import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import type { AdmissionTicket } from '../../../src/platform/admission/types.js';
import { systemClock } from '../../../src/platform/clock.js';
import { ServerlessExecutor } from '../../../src/platform/executors/serverless-executor.js';
import type { CostEntry } from '../../../src/platform/cost/ledger.js';
import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import type { PriceTable } from '../../../src/platform/cost/price-table.js';
import { roundUsd } from '../../../src/platform/cost/usd.js';
import { createRouter, parsePolicy, type Router } from '../../../src/platform/router/index.js';
import { isRouterError } from '../../../src/platform/router/router-errors.js';
import { costEntryOf } from '../../../src/platform/runtime/cost-entry.js';
import { DirectExecutor } from '../../../src/platform/runtime/direct-executor.js';
import {
  failureOf,
  type ModelCallInput,
  type ModelCallOutput,
  type ModelRouterPort,
} from '../../../src/platform/runtime/model-router.js';
import { RouterModelPort } from '../../../src/platform/runtime/router-port.js';
import { createTaskHandler } from '../../../src/platform/runtime/task-consumer.js';
import { TaskFinisher, type TicketCloser } from '../../../src/platform/runtime/task-finisher.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import type { AttemptRecord, TaskRequest, TokenUsage } from '../../../src/platform/task.js';
import { route } from '../router/router-fixtures.js';

const TENANT = {
  id: 'tenant-alpha',
  requestsPerMinute: 100,
  tokensPerMinute: 100_000,
  maxInFlight: 5,
  budgetUsd: 10,
};

/** Zero-latency copy of a shipped profile, so each step takes milliseconds. */
function fast(profile: ProviderProfile): ProviderProfile {
  const models = profile.models.map((model) => ({
    ...model,
    ttftMs: { median: 1, p95: 2 },
    outputTokensPerSecond: { mean: 100_000, stddev: 0 },
  }));
  return { ...profile, models, faults: undefined };
}

/** Adds the tokens of the attempts that carry usage to `usage`. */
function addAttempts(usage: TokenUsage, attempts: readonly AttemptRecord[]): TokenUsage {
  let { inputTokens, outputTokens } = usage;
  for (const attempt of attempts) {
    inputTokens += attempt.usage?.inputTokens ?? 0;
    outputTokens += attempt.usage?.outputTokens ?? 0;
  }
  return { inputTokens, outputTokens };
}

/**
 * A router port in front of the mock provider that cuts the stream of its call number
 * `failingCall` after 2 tokens, and records each finished call and the failed call's attempts.
 * With `hangAt`, that call never returns, as in a worker process that was killed.
 */
class RecordingPort implements ModelRouterPort {
  readonly outputs: ModelCallOutput[] = [];
  failedAttempts: AttemptRecord[] = [];
  #calls = 0;
  readonly #inner: ModelRouterPort;
  readonly #mock: MockProvider;
  readonly #failingCall: number;
  readonly #hangAt: { call: number; reached: () => void } | undefined;

  constructor(
    inner: ModelRouterPort,
    mock: MockProvider,
    failingCall: number,
    hangAt?: { call: number; reached: () => void },
  ) {
    this.#inner = inner;
    this.#mock = mock;
    this.#failingCall = failingCall;
    this.#hangAt = hangAt;
  }

  async call(input: ModelCallInput): Promise<ModelCallOutput> {
    this.#calls += 1;
    if (this.#hangAt?.call === this.#calls) {
      this.#hangAt.reached();
      return new Promise<never>(() => undefined);
    }
    this.#mock.setFaults(this.#calls === this.#failingCall ? { streamCutAfterTokens: 2 } : {});
    try {
      const output = await this.#inner.call(input);
      this.outputs.push(output);
      return output;
    } catch (error) {
      const failure = failureOf(error);
      if (isRouterError(failure)) this.failedAttempts = [...failure.attempts];
      throw error;
    }
  }

  /** Returns the finished calls' tokens, failed attempts included, which their cost prices. */
  finishedUsage(): TokenUsage {
    let usage = { inputTokens: 0, outputTokens: 0 };
    for (const { result } of this.outputs) {
      usage = addAttempts(
        {
          inputTokens: usage.inputTokens + result.usage.inputTokens,
          outputTokens: usage.outputTokens + result.usage.outputTokens,
        },
        result.attempts,
      );
    }
    return usage;
  }
}

describe('ledger entry of a failed multi-step task', () => {
  let mock: MockProvider;
  let router: Router;
  let prices: PriceTable;
  let model: string;
  let store: MemoryTaskStore;
  let admission: MemoryAdmissionBackend;
  let entries: CostEntry[];

  before(async () => {
    const profile = (await loadProviderCatalog()).map(fast);
    const providerA = profile.find((candidate) => candidate.name === 'provider-a');
    assert.ok(providerA);
    model = providerA.models[0]?.name ?? assert.fail('provider-a has no model');
    mock = await startMockProvider({ profile: providerA });
    const candidates = [{ provider: 'provider-a', model, weight: 1 }];
    const policy = parsePolicy(
      { version: 1, routes: { chat: route({ candidates, qualityFloor: 1 }) } },
      profile,
    );
    router = createRouter({
      policy,
      catalog: profile,
      endpoints: { 'provider-a': { baseUrl: mock.url, apiKey: 'k1' } },
    });
    prices = await loadPriceTable();
  });

  after(async () => {
    await router.close();
    await mock.close();
  });

  beforeEach(() => {
    store = new MemoryTaskStore();
    admission = new MemoryAdmissionBackend();
    entries = [];
  });

  function finisherWith(closer: TicketCloser = admission): TaskFinisher {
    return new TaskFinisher({
      store,
      admission: closer,
      clock: systemClock,
      onFinished: ({ record, executorCostUsd, spentUsage }) => {
        const entry = costEntryOf(record, executorCostUsd, spentUsage);
        if (entry !== undefined) entries.push(entry);
      },
    });
  }

  /** Admits and stores a 3-step task; returns its ticket. */
  async function storedTask(id: string, mode: TaskRequest['mode']): Promise<AdmissionTicket> {
    const decision = await admission.admit({ tenant: TENANT, tokens: 100, maxCostUsd: 1 });
    assert.ok(decision.admitted);
    const request: TaskRequest = {
      route: 'chat',
      maxOutputTokens: 16,
      forcedOutputTokens: 16,
      mode,
      priority: 'standard',
      steps: 3,
    };
    await store.create({
      id,
      tenantId: TENANT.id,
      request,
      state: 'queued',
      createdAt: Date.now(),
      deliveries: 0,
    });
    return decision.ticket;
  }

  function job(id: string, ticket: AdmissionTicket, attempt: number) {
    return { id, data: { ticket }, attempt, deliveries: attempt, enqueuedAt: Date.now() };
  }

  /**
   * Checks that the one entry has `expected` as its usage, and that pricing it at
   * provider-a's model gives the entry's token cost.
   */
  function assertEntryUsage(expected: TokenUsage): CostEntry {
    assert.equal(entries.length, 1);
    const entry = entries[0] ?? assert.fail('no ledger entry');
    assert.deepEqual(entry.usage, expected);
    assert.equal(prices.priceTokens('provider-a', model, entry.usage), entry.tokenCostUsd);
    return entry;
  }

  /** Checks that the entry names the provider of the failed call's attempts. */
  function assertEntryModel(entry: CostEntry): void {
    assert.equal(entry.provider, 'provider-a');
    assert.equal(entry.model, model);
  }

  it('counts both finished steps of a sync task', async () => {
    const ticket = await storedTask('sync-1', 'sync');
    const port = new RecordingPort(new RouterModelPort(router, prices), mock, 3);
    const executor = new DirectExecutor({
      router: port,
      finisher: finisherWith(),
      clock: systemClock,
    });
    const task = (await store.getById('sync-1')) ?? assert.fail('task not stored');

    const outcome = await executor.execute({ task, ticket });

    assert.equal(outcome.record.state, 'failed');
    assert.equal(port.outputs.length, 2);
    assert.ok(port.failedAttempts.some((attempt) => attempt.usage !== undefined));
    const expected = addAttempts(port.finishedUsage(), port.failedAttempts);
    const entry = assertEntryUsage(expected);
    assertEntryModel(entry);
    assert.equal(entry.tokenCostUsd, outcome.record.costUsd);
  });

  it('counts both finished steps of a serverless task', async () => {
    const ticket = await storedTask('serverless-1', 'sync');
    const port = new RecordingPort(new RouterModelPort(router, prices), mock, 3);
    const executor = new ServerlessExecutor({
      router: port,
      finisher: finisherWith(),
      clock: systemClock,
      emulator: {
        coldStartMs: 0,
        prices: { perGbSecondUsd: 0.0000166667, perRequestUsd: 0.0000002 },
      },
    });
    const task = (await store.getById('serverless-1')) ?? assert.fail('task not stored');

    try {
      const outcome = await executor.execute({ task, ticket });
      assert.equal(outcome.record.state, 'failed');
    } finally {
      executor.close();
    }

    assert.equal(port.outputs.length, 2);
    const expected = addAttempts(port.finishedUsage(), port.failedAttempts);
    const entry = assertEntryUsage(expected);
    assertEntryModel(entry);
    assert.ok(entry.executorCostUsd > 0, 'the invocation was billed');
    const record = await store.getById('serverless-1');
    assert.equal(roundUsd(entry.tokenCostUsd + entry.executorCostUsd), record?.costUsd);
    assert.deepEqual(
      record?.error?.attempts?.map((attempt) => attempt.provider),
      port.failedAttempts.map((attempt) => attempt.provider),
    );
  });

  it('counts both finished steps of an async task', async () => {
    const ticket = await storedTask('async-1', 'async');
    const port = new RecordingPort(new RouterModelPort(router, prices), mock, 3);
    const finisher = finisherWith();
    const handler = createTaskHandler({
      store,
      router: port,
      finisher,
      clock: systemClock,
      maxAttempts: 1,
    });

    await assert.rejects(handler(job('async-1', ticket, 1)));

    const record = await store.getById('async-1');
    assert.equal(record?.state, 'dead_lettered');
    assert.equal(port.outputs.length, 2);
    const expected = addAttempts(port.finishedUsage(), port.failedAttempts);
    const entry = assertEntryUsage(expected);
    assertEntryModel(entry);
    assert.equal(entry.tokenCostUsd, record?.costUsd);
  });

  /**
   * Runs delivery 1 of an async task until it finished 2 steps and hangs in the third, as a
   * killed worker process leaves it, then delivery 2, whose call fails. Returns both ports.
   */
  async function resumeAfterKill(id: string, closer?: TicketCloser) {
    const ticket = await storedTask(id, 'async');
    const inner = new RouterModelPort(router, prices);
    let reached = (): void => undefined;
    const hung = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const killed = new RecordingPort(inner, mock, 0, { call: 3, reached });
    const first = createTaskHandler({
      store,
      router: killed,
      finisher: finisherWith(),
      clock: systemClock,
      maxAttempts: 1,
    });
    void first(job(id, ticket, 1));
    await hung;
    assert.equal((await store.getById(id))?.checkpoint?.steps, 2);

    const resumed = new RecordingPort(inner, mock, 1);
    const second = createTaskHandler({
      store,
      router: resumed,
      finisher: finisherWith(closer),
      clock: systemClock,
      maxAttempts: 1,
    });
    await assert.rejects(second(job(id, ticket, 1)));
    return { killed, resumed };
  }

  it('counts the checkpoint steps of a resumed task', async () => {
    const { killed, resumed } = await resumeAfterKill('resumed-1');

    const record = await store.getById('resumed-1');
    assert.equal(record?.state, 'dead_lettered');
    assert.equal(record?.deliveries, 2);
    assert.equal(resumed.outputs.length, 0);
    assert.ok(resumed.failedAttempts.some((attempt) => attempt.usage !== undefined));
    const expected = addAttempts(killed.finishedUsage(), resumed.failedAttempts);
    const entry = assertEntryUsage(expected);
    assertEntryModel(entry);
    assert.equal(entry.tokenCostUsd, record?.costUsd);
  });

  it('leaves out checkpoint steps the cost does not count', async () => {
    // A settle that fails reports no charges, so the cost of the killed delivery's steps is
    // not in the task's cost.
    const failingSettle: TicketCloser = {
      charge: (ticket, spend) => admission.charge(ticket, spend),
      settle: async () => {
        throw new Error('settle failed');
      },
      release: (ticket) => admission.release(ticket),
    };
    const { resumed } = await resumeAfterKill('resumed-2', failingSettle);

    const record = await store.getById('resumed-2');
    assert.equal(record?.state, 'dead_lettered');
    const expected = addAttempts({ inputTokens: 0, outputTokens: 0 }, resumed.failedAttempts);
    const entry = assertEntryUsage(expected);
    assertEntryModel(entry);
    assert.equal(entry.tokenCostUsd, record?.costUsd);
  });
});
