import assert from 'node:assert/strict';

import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import { systemClock } from '../../../src/platform/clock.js';
import { RouterError } from '../../../src/platform/router/router-errors.js';
import { costEntryOf } from '../../../src/platform/runtime/cost-entry.js';
import {
  type ModelCallInput,
  type ModelCallOutput,
  SpentTokensError,
  spentTokenCostOf,
  withSpentTokens,
} from '../../../src/platform/runtime/model-router.js';
import { runWithLimits, TaskDeadlineError } from '../../../src/platform/runtime/run-limits.js';
import { createTaskHandler } from '../../../src/platform/runtime/task-consumer.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { runAgentTask } from '../../../src/platform/runtime/task-runner.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import type { TaskRecord, TaskRequest } from '../../../src/platform/task.js';

const REQUEST: TaskRequest = {
  route: 'chat',
  maxOutputTokens: 16,
  mode: 'sync',
  priority: 'standard',
  steps: 3,
};

function stepOutput(tokenCostUsd: number): ModelCallOutput {
  return {
    tokenCostUsd,
    result: {
      text: 'step',
      usage: { inputTokens: 10, outputTokens: 5 },
      provider: 'provider-a',
      model: 'gpt-4o',
      attempts: [],
      timeToFirstTokenMs: 1,
    },
  };
}

/** A router port that returns `outputs` in turn, then rejects with `failure`. */
function portAnswering(outputs: ModelCallOutput[], failure: unknown) {
  const calls: ModelCallInput[] = [];
  return {
    calls,
    call: async (input: ModelCallInput) => {
      calls.push(input);
      const output = outputs[calls.length - 1];
      if (output === undefined) throw failure;
      return output;
    },
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('the promise resolved'),
    (error: unknown) => error,
  );
}

function failedRecord(costUsd: number, attempts: TaskRecord['error']): TaskRecord {
  return {
    id: 't1',
    tenantId: 'tenant-alpha',
    request: REQUEST,
    state: 'failed',
    createdAt: 1_000,
    finishedAt: 2_000,
    deliveries: 1,
    costUsd,
    error: attempts,
  };
}

describe('spent token cost of failed tasks', () => {
  it('adds up nested spent costs', () => {
    const cause = new Error('cut');
    const once = withSpentTokens(cause, 0.25);
    const twice = withSpentTokens(once, 0.5);
    assert.ok(twice instanceof SpentTokensError);
    assert.equal(twice.cause, cause);
    assert.equal(spentTokenCostOf(twice), 0.75);
    assert.equal(withSpentTokens(cause, 0), cause);
    assert.equal(spentTokenCostOf(cause), 0);
  });

  it('charges finished steps of a failed task', async () => {
    const failure = new RouterError('provider_unavailable', 'no candidate left');
    const port = portAnswering([stepOutput(0.25), stepOutput(0.5)], failure);
    const context = { tenantId: 'tenant-alpha', router: port, clock: systemClock };
    const rejection = await rejectionOf(runAgentTask(REQUEST, context));
    assert.equal(port.calls.length, 3);
    assert.ok(rejection instanceof SpentTokensError);
    assert.equal(rejection.cause, failure);
    assert.equal(rejection.tokenCostUsd, 0.75);
  });

  it('adds the failed step spend', async () => {
    const failure = new SpentTokensError(new RouterError('stream_interrupted', 'cut'), 0.125);
    const port = portAnswering([stepOutput(0.25)], failure);
    const context = { tenantId: 'tenant-alpha', router: port, clock: systemClock };
    const rejection = await rejectionOf(runAgentTask(REQUEST, context));
    assert.equal(spentTokenCostOf(rejection), 0.375);
  });

  it('rethrows a failure that spent nothing', async () => {
    const failure = new RouterError('provider_unavailable', 'no candidate left');
    const port = portAnswering([], failure);
    const context = { tenantId: 'tenant-alpha', router: port, clock: systemClock };
    assert.equal(await rejectionOf(runAgentTask(REQUEST, context)), failure);
  });

  it('keeps spent cost past the deadline', async () => {
    const limits = { clock: systemClock, deadlineMs: 20 };
    const run = (signal: AbortSignal) =>
      new Promise<never>((_resolve, reject) => {
        signal.addEventListener('abort', () =>
          reject(new SpentTokensError(new Error('aborted mid-stream'), 0.5)),
        );
      });
    const rejection = await rejectionOf(runWithLimits(limits, run));
    assert.ok(rejection instanceof SpentTokensError);
    assert.ok(rejection.cause instanceof TaskDeadlineError);
    assert.equal(rejection.tokenCostUsd, 0.5);
  });

  it('enters a costly failed task', () => {
    const entry = costEntryOf(
      failedRecord(0.0029, {
        code: 'upstream_error',
        message: 'every candidate failed',
        attempts: [
          {
            provider: 'provider-a',
            model: 'gpt-4o',
            outcome: 'failed',
            latencyMs: 40,
            usage: { inputTokens: 1_000, outputTokens: 40 },
          },
          {
            provider: 'provider-b',
            model: 'claude-sonnet',
            outcome: 'failed',
            latencyMs: 30,
            usage: { inputTokens: 1_000, outputTokens: 10 },
          },
          { provider: 'provider-c', model: 'llama-70b', outcome: 'failed', latencyMs: 3 },
        ],
      }),
      0.0004,
    );
    assert.deepEqual(entry, {
      taskId: 't1',
      tenantId: 'tenant-alpha',
      route: 'chat',
      provider: 'provider-b',
      model: 'claude-sonnet',
      usage: { inputTokens: 2_000, outputTokens: 50 },
      tokenCostUsd: 0.0025,
      executorCostUsd: 0.0004,
    });
  });

  it('skips a failed task that cost nothing', () => {
    const record = failedRecord(0, { code: 'provider_unavailable', message: 'no candidate' });
    assert.equal(costEntryOf(record, 0), undefined);
  });

  describe('async deliveries', () => {
    const tenant = {
      id: 'tenant-alpha',
      requestsPerMinute: 100,
      tokensPerMinute: 100_000,
      maxInFlight: 5,
      budgetUsd: 10,
    };
    let store: MemoryTaskStore;
    let admission: MemoryAdmissionBackend;
    let finisher: TaskFinisher;

    beforeEach(() => {
      store = new MemoryTaskStore();
      admission = new MemoryAdmissionBackend();
      finisher = new TaskFinisher({ store, admission, clock: systemClock });
    });

    /** Admits and stores a queued one-step async task; returns its job at `attempt`. */
    async function queuedJob(id: string) {
      const decision = await admission.admit({ tenant, tokens: 100, maxCostUsd: 1 });
      assert.ok(decision.admitted);
      await store.create({
        id,
        tenantId: 'tenant-alpha',
        request: { ...REQUEST, mode: 'async', steps: 1 },
        state: 'queued',
        createdAt: Date.now(),
        deliveries: 0,
      });
      return (attempt: number) => ({
        id,
        data: { ticket: decision.ticket },
        attempt,
        deliveries: attempt,
        enqueuedAt: Date.now(),
      });
    }

    function handlerFor(router: ReturnType<typeof portAnswering>) {
      return createTaskHandler({ store, router, finisher, clock: systemClock, maxAttempts: 3 });
    }

    it('charges a dead-lettered async task', async () => {
      const job = await queuedJob('t2');
      const failure = new SpentTokensError(new RouterError('upstream_error', 'stream cut'), 0.125);

      // The queue gets the failure itself, not its cost wrapper.
      await assert.rejects(
        handlerFor(portAnswering([], failure))(job(3)),
        (error) => error instanceof RouterError,
      );
      const record = await store.getById('t2');
      assert.equal(record?.state, 'dead_lettered');
      assert.equal(record?.costUsd, 0.125);
      const usage = await admission.usage({ id: 'tenant-alpha' });
      assert.equal(usage.spentUsd, 0.125);
      assert.equal(usage.inFlight, 0);
      assert.equal(usage.reservedUsd, 0);
    });

    it('charges a retried delivery', async () => {
      const job = await queuedJob('t3');
      const failure = new SpentTokensError(new RouterError('upstream_error', 'stream cut'), 0.125);
      const handler = handlerFor(portAnswering([], failure));

      await assert.rejects(handler(job(1)), (error) => error instanceof RouterError);
      // The task waits for its next delivery as queued.
      const retried = await store.getById('t3');
      assert.equal(retried?.state, 'queued');
      assert.equal(retried?.costUsd, 0.125);
      // The ticket stays open for the next delivery, with this spend charged.
      assert.deepEqual(await admission.usage({ id: 'tenant-alpha' }), {
        inFlight: 1,
        reservedUsd: 1,
        spentUsd: 0.125,
      });

      await assert.rejects(handler(job(2)), (error) => error instanceof RouterError);
      await assert.rejects(handler(job(3)), (error) => error instanceof RouterError);
      const record = await store.getById('t3');
      assert.equal(record?.state, 'dead_lettered');
      assert.equal(record?.deliveries, 3);
      assert.equal(record?.costUsd, 0.375);
      const usage = await admission.usage({ id: 'tenant-alpha' });
      assert.equal(usage.spentUsd, 0.375);
      assert.equal(usage.inFlight, 0);
    });

    it('adds retried spend to success', async () => {
      const job = await queuedJob('t4');
      const failure = new SpentTokensError(new RouterError('upstream_error', 'stream cut'), 0.125);
      await assert.rejects(handlerFor(portAnswering([], failure))(job(1)));
      await handlerFor(portAnswering([stepOutput(0.5)], failure))(job(2));

      const record = await store.getById('t4');
      assert.equal(record?.state, 'succeeded');
      assert.equal(record?.costUsd, 0.625);
      const usage = await admission.usage({ id: 'tenant-alpha' });
      assert.equal(usage.spentUsd, 0.625);
      assert.equal(usage.reservedUsd, 0);
    });

    it('skips a retry that spent nothing', async () => {
      const job = await queuedJob('t5');
      const failure = new RouterError('provider_unavailable', 'no candidate left');
      await assert.rejects(
        handlerFor(portAnswering([], failure))(job(1)),
        (error) => error === failure,
      );
      assert.equal((await store.getById('t5'))?.costUsd, undefined);
    });
  });
});
