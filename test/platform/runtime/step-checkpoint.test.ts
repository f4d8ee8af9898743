import assert from 'node:assert/strict';

import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import type { AdmissionTicket } from '../../../src/platform/admission/types.js';
import { type Clock, systemClock } from '../../../src/platform/clock.js';
import { RouterError } from '../../../src/platform/router/router-errors.js';
import type {
  ModelCallInput,
  ModelCallOutput,
} from '../../../src/platform/runtime/model-router.js';
import { createTaskHandler } from '../../../src/platform/runtime/task-consumer.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { runAgentTask } from '../../../src/platform/runtime/task-runner.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';
import type { StepCheckpoint, TaskRequest } from '../../../src/platform/task.js';

const REQUEST: TaskRequest = {
  route: 'chat',
  maxOutputTokens: 16,
  mode: 'async',
  priority: 'standard',
  steps: 3,
};

/** Returns the output of step `step`, which cost `tokenCostUsd`. */
function stepOutput(step: number, tokenCostUsd: number): ModelCallOutput {
  return {
    tokenCostUsd,
    result: {
      text: `step ${step}`,
      usage: { inputTokens: 10, outputTokens: 5 },
      provider: 'provider-a',
      model: 'gpt-4o',
      attempts: [{ provider: 'provider-a', model: 'gpt-4o', outcome: 'success', latencyMs: step }],
      timeToFirstTokenMs: step,
    },
  };
}

/** Returns a checkpoint after `steps` steps of `stepOutput`. */
function checkpointAfter(steps: number): StepCheckpoint {
  const attempts = Array.from({ length: steps }, (_, index) => ({
    provider: 'provider-a',
    model: 'gpt-4o',
    outcome: 'success' as const,
    latencyMs: index + 1,
  }));
  return {
    steps,
    result: {
      text: `step ${steps}`,
      usage: { inputTokens: 10 * steps, outputTokens: 5 * steps },
      provider: 'provider-a',
      model: 'gpt-4o',
      attempts,
      timeToFirstTokenMs: 1,
    },
  };
}

/** Returns a router port that replies to its calls with `replies` in turn: an output, or an error to throw. */
function portAnswering(replies: (ModelCallOutput | Error)[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    call: async (_input: ModelCallInput) => {
      const reply = replies[calls];
      calls += 1;
      if (reply === undefined) throw new Error(`no reply for call ${calls}`);
      if (reply instanceof Error) throw reply;
      return reply;
    },
  };
}

/** Returns a clock whose sleeps are counted and return at once. */
function countingClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { ...systemClock, sleeps, sleep: async (ms: number) => void sleeps.push(ms) };
}

describe('agent task steps across deliveries', () => {
  describe('runAgentTask', () => {
    it('resumes after the checkpoint steps', async () => {
      const router = portAnswering([stepOutput(3, 0.25)]);
      const output = await runAgentTask(REQUEST, {
        tenantId: 'tenant-alpha',
        router,
        clock: systemClock,
        resumeFrom: checkpointAfter(2),
      });
      assert.equal(router.calls, 1);
      assert.equal(output.tokenCostUsd, 0.25);
      assert.equal(output.result.text, 'step 3');
      assert.deepEqual(output.result.usage, { inputTokens: 30, outputTokens: 15 });
      assert.deepEqual(
        output.result.attempts.map((attempt) => attempt.latencyMs),
        [1, 2, 3],
      );
      assert.equal(output.result.timeToFirstTokenMs, 1);
    });

    it('finishes a task whose steps all ran', async () => {
      const router = portAnswering([]);
      const clock = countingClock();
      const output = await runAgentTask(
        { ...REQUEST, toolWaitMs: 40 },
        { tenantId: 'tenant-alpha', router, clock, resumeFrom: checkpointAfter(3) },
      );
      assert.equal(router.calls, 0);
      assert.equal(output.tokenCostUsd, 0);
      assert.deepEqual(output.result, checkpointAfter(3).result);
      // The tool wait after the last step runs again.
      assert.deepEqual(clock.sleeps, [40]);
    });

    it('passes each step done to afterStep', async () => {
      const router = portAnswering([stepOutput(1, 0.125), stepOutput(2, 0.25)]);
      const done: [number, number, string][] = [];
      await runAgentTask(
        { ...REQUEST, steps: 2, toolWaitMs: 10 },
        {
          tenantId: 'tenant-alpha',
          router,
          clock: countingClock(),
          afterStep: async (spentUsd, checkpoint) => {
            done.push([checkpoint.steps, spentUsd, checkpoint.result.text]);
          },
        },
      );
      // The last step has a tool wait after it, so it is recorded too.
      assert.deepEqual(done, [
        [1, 0.125, 'step 1'],
        [2, 0.375, 'step 2'],
      ]);
    });

    it('stores the tool wait end in the checkpoint', async () => {
      const router = portAnswering([stepOutput(1, 0.125), stepOutput(2, 0.25)]);
      const done: StepCheckpoint[] = [];
      const before = Date.now();
      await runAgentTask(
        { ...REQUEST, steps: 2, toolWaitMs: 5_000 },
        {
          tenantId: 'tenant-alpha',
          router,
          clock: countingClock(),
          afterStep: async (_spentUsd, checkpoint) => void done.push(checkpoint),
        },
      );
      const after = Date.now();
      assert.equal(done.length, 2);
      for (const checkpoint of done) {
        const endsAt = checkpoint.toolWaitEndsAt ?? Number.NaN;
        assert.ok(endsAt >= before + 5_000, `ends at ${endsAt}, before ${before}`);
        assert.ok(endsAt <= after + 5_000, `ends at ${endsAt}, after ${after}`);
      }
    });

    it('stores no tool wait end without a tool wait', async () => {
      const router = portAnswering([stepOutput(1, 0.125), stepOutput(2, 0.25)]);
      const done: StepCheckpoint[] = [];
      await runAgentTask(
        { ...REQUEST, steps: 2 },
        {
          tenantId: 'tenant-alpha',
          router,
          clock: systemClock,
          afterStep: async (_spentUsd, checkpoint) => void done.push(checkpoint),
        },
      );
      assert.equal(done.length, 1);
      assert.equal(done[0]?.steps, 1);
      assert.equal('toolWaitEndsAt' in (done[0] ?? {}), false);
    });

    it('waits only the rest of a resumed tool wait', async () => {
      const router = portAnswering([]);
      const clock = countingClock();
      const resumeFrom = { ...checkpointAfter(3), toolWaitEndsAt: Date.now() + 300 };
      await runAgentTask(
        { ...REQUEST, toolWaitMs: 1_000 },
        { tenantId: 'tenant-alpha', router, clock, resumeFrom },
      );
      assert.equal(clock.sleeps.length, 1);
      const sleptMs = clock.sleeps[0] ?? Number.NaN;
      assert.ok(sleptMs > 250, `slept ${sleptMs} ms`);
      assert.ok(sleptMs <= 300, `slept ${sleptMs} ms`);
    });

    it('waits 0 ms after a past tool wait end', async () => {
      const router = portAnswering([stepOutput(3, 0.25)]);
      const clock = countingClock();
      const resumeFrom = { ...checkpointAfter(2), toolWaitEndsAt: Date.now() - 1 };
      const output = await runAgentTask(
        { ...REQUEST, toolWaitMs: 1_000 },
        { tenantId: 'tenant-alpha', router, clock, resumeFrom },
      );
      assert.equal(output.result.text, 'step 3');
      // The resumed wait, then step 3's whole wait.
      assert.equal(clock.sleeps.length, 2);
      assert.equal(clock.sleeps[0], 0);
      assert.ok((clock.sleeps[1] ?? 0) > 990, `slept ${clock.sleeps[1]} ms after step 3`);
    });

    it('caps a resumed tool wait at toolWaitMs', async () => {
      const router = portAnswering([]);
      const clock = countingClock();
      // As from a scaled clock whose time ran far ahead of this one's.
      const resumeFrom = { ...checkpointAfter(3), toolWaitEndsAt: Date.now() + 3_600_000 };
      await runAgentTask(
        { ...REQUEST, toolWaitMs: 1_000 },
        { tenantId: 'tenant-alpha', router, clock, resumeFrom },
      );
      assert.deepEqual(clock.sleeps, [1_000]);
    });

    it('skips afterStep after a last step without tool wait', async () => {
      const router = portAnswering([stepOutput(1, 0.125), stepOutput(2, 0.25)]);
      const done: number[] = [];
      await runAgentTask(
        { ...REQUEST, steps: 2 },
        {
          tenantId: 'tenant-alpha',
          router,
          clock: systemClock,
          afterStep: async (_spentUsd, checkpoint) => void done.push(checkpoint.steps),
        },
      );
      assert.deepEqual(done, [1]);
    });
  });

  describe('task handler with a memory store', () => {
    const tenant = {
      id: 'tenant-alpha',
      requestsPerMinute: 1000,
      tokensPerMinute: 1_000_000,
      maxInFlight: 10,
      budgetUsd: 10,
    };
    let store: MemoryTaskStore;
    let admission: MemoryAdmissionBackend;

    beforeEach(() => {
      store = new MemoryTaskStore();
      admission = new MemoryAdmissionBackend();
    });

    /** Admits and stores a queued three-step task; returns its ticket. */
    async function queued(id: string): Promise<AdmissionTicket> {
      const decision = await admission.admit({ tenant, tokens: 100, maxCostUsd: 1 });
      assert.ok(decision.admitted);
      await store.create({
        id,
        tenantId: tenant.id,
        request: REQUEST,
        state: 'queued',
        createdAt: Date.now(),
        deliveries: 0,
      });
      return decision.ticket;
    }

    function handlerFor(router: ReturnType<typeof portAnswering>, charge = admission) {
      const finisher = new TaskFinisher({ store, admission: charge, clock: systemClock });
      return createTaskHandler({ store, router, finisher, clock: systemClock, maxAttempts: 3 });
    }

    const job = (id: string, ticket: AdmissionTicket, attempt: number) => ({
      id,
      data: { ticket },
      attempt,
      deliveries: attempt,
      enqueuedAt: Date.now(),
    });

    it('repeats no finished step after a retry', async () => {
      const ticket = await queued('t1');
      const cut = new RouterError('upstream_error', 'stream cut');
      const first = portAnswering([stepOutput(1, 0.125), cut]);
      await assert.rejects(handlerFor(first)(job('t1', ticket, 1)));
      assert.equal((await store.getById('t1'))?.checkpoint?.steps, 1);

      const second = portAnswering([stepOutput(2, 0.25), stepOutput(3, 0.5)]);
      await handlerFor(second)(job('t1', ticket, 2));
      assert.equal(first.calls, 2);
      assert.equal(second.calls, 2);
      const record = await store.getById('t1');
      assert.equal(record?.state, 'succeeded');
      assert.equal(record?.result?.text, 'step 3');
      assert.deepEqual(record?.result?.usage, { inputTokens: 30, outputTokens: 15 });
      assert.equal(record?.checkpoint, undefined);
      // Step 1 ran once, in the first delivery, and each later step once, in the second.
      assert.equal(record?.costUsd, 0.875);
      assert.equal((await admission.usage(tenant)).spentUsd, 0.875);
    });

    it('stores no checkpoint of an uncharged step', async () => {
      const ticket = await queued('t2');
      const failing = new MemoryAdmissionBackend();
      failing.charge = () => Promise.reject(new Error('admission unavailable'));
      const cut = new RouterError('upstream_error', 'stream cut');
      const router = portAnswering([stepOutput(1, 0.125), cut]);
      await assert.rejects(handlerFor(router, failing)(job('t2', ticket, 1)));
      const record = await store.getById('t2');
      assert.equal(record?.state, 'queued');
      assert.equal(record?.checkpoint, undefined);
    });
  });
});
