import assert from 'node:assert/strict';

import { systemClock } from '../../../src/platform/clock.js';
import { type Platform, startPlatform } from '../../../src/platform/runtime.js';
import type { MetricSink } from '../../../src/platform/runtime/metric-relay.js';
import { observeFirstToken } from '../../../src/platform/runtime/metrics-wiring.js';
import type { ModelCallOutput } from '../../../src/platform/runtime/model-router.js';
import { runAgentTask } from '../../../src/platform/runtime/task-runner.js';
import { loadDemoKeys } from '../../../src/platform/tenants/index.js';
import type { TaskRecord, TaskRequest, TaskResult } from '../../../src/platform/task.js';
import {
  clearFaults,
  postTask,
  sample,
  scrape,
  setFaults,
  terminalRecord,
  waitFor,
} from './platform-support.js';

const TWO_STEPS: TaskRequest = {
  route: 'chat',
  maxOutputTokens: 8,
  mode: 'async',
  priority: 'standard',
  steps: 2,
};

/** Returns one step's output, served by `provider`/`model` with its first token after `ttftMs`. */
function servedBy(provider: string, model: string, ttftMs: number): ModelCallOutput {
  return {
    tokenCostUsd: 0.125,
    result: {
      text: `from ${provider}`,
      usage: { inputTokens: 10, outputTokens: 5 },
      provider,
      model,
      attempts: [{ provider, model, outcome: 'success', latencyMs: ttftMs + 10 }],
      timeToFirstTokenMs: ttftMs,
    },
  };
}

/** Returns a router port that replies to its calls with `outputs` in turn. */
function portAnswering(outputs: ModelCallOutput[]) {
  let calls = 0;
  return {
    call: async () => {
      const output = outputs[calls];
      calls += 1;
      if (output === undefined) throw new Error(`no reply for call ${calls}`);
      return output;
    },
  };
}

/** Returns the time-to-first-token observations that observeFirstToken makes for `result`. */
function firstTokenObservations(result: TaskResult): string[] {
  const observed: string[] = [];
  const ignore = (): void => {};
  const sink: MetricSink = {
    recordRequest: ignore,
    observeQueueWait: ignore,
    observeTimeToFirstToken: (labels, seconds) =>
      observed.push(`${labels.provider} ${labels.model} ${seconds}`),
    recordFailover: ignore,
    recordAttempt: ignore,
    recordFallbackAttempt: ignore,
    setBreakerState: ignore,
    recordCost: ignore,
    recordCapDeferral: ignore,
    recordResumedSteps: ignore,
  };
  const record: TaskRecord = {
    id: 't1',
    tenantId: 'tenant-alpha',
    request: TWO_STEPS,
    state: 'succeeded',
    createdAt: 0,
    deliveries: 1,
    result,
  };
  observeFirstToken(sink, record);
  return observed;
}

describe('time to first token labels', () => {
  describe('runAgentTask and observeFirstToken', () => {
    it('labels a two-step task with step 1', async () => {
      const router = portAnswering([
        servedBy('provider-a', 'gpt-4o', 300),
        servedBy('provider-b', 'claude-sonnet', 900),
      ]);
      const { result } = await runAgentTask(TWO_STEPS, {
        tenantId: 'tenant-alpha',
        router,
        clock: systemClock,
      });
      assert.equal(result.provider, 'provider-b');
      assert.equal(result.model, 'claude-sonnet');
      assert.deepEqual(result.firstTokenFrom, { provider: 'provider-a', model: 'gpt-4o' });
      assert.equal(result.timeToFirstTokenMs, 300);
      assert.deepEqual(firstTokenObservations(result), ['provider-a gpt-4o 0.3']);
    });

    it('keeps step 1 labels over three steps', async () => {
      const router = portAnswering([
        servedBy('provider-b', 'claude-sonnet', 500),
        servedBy('provider-a', 'gpt-4o', 200),
        servedBy('provider-c', 'llama-70b', 100),
      ]);
      const { result } = await runAgentTask(
        { ...TWO_STEPS, steps: 3 },
        { tenantId: 'tenant-alpha', router, clock: systemClock },
      );
      assert.equal(result.provider, 'provider-c');
      assert.deepEqual(firstTokenObservations(result), ['provider-b claude-sonnet 0.5']);
    });

    it('keeps checkpoint labels after a resume', async () => {
      const router = portAnswering([servedBy('provider-a', 'gpt-4o', 200)]);
      const { result } = await runAgentTask(TWO_STEPS, {
        tenantId: 'tenant-alpha',
        router,
        clock: systemClock,
        resumeFrom: { steps: 1, result: servedBy('provider-b', 'claude-sonnet', 700).result },
      });
      assert.equal(result.provider, 'provider-a');
      assert.deepEqual(firstTokenObservations(result), ['provider-b claude-sonnet 0.7']);
    });

    it('labels a one-step task with its provider', async () => {
      const router = portAnswering([servedBy('provider-b', 'claude-sonnet', 400)]);
      const { result } = await runAgentTask(
        { ...TWO_STEPS, steps: 1 },
        { tenantId: 'tenant-alpha', router, clock: systemClock },
      );
      assert.equal(result.firstTokenFrom, undefined);
      assert.deepEqual(firstTokenObservations(result), ['provider-b claude-sonnet 0.4']);
    });
  });

  describe('platform in memory', function () {
    this.timeout(30_000);
    let platform: Platform;
    let key: string;

    /** A two-step chat task with a tool wait long enough to change faults in it. */
    const task = {
      route: 'chat',
      inputTokens: 100,
      maxOutputTokens: 8,
      forcedOutputTokens: 8,
      mode: 'async',
      steps: 2,
      toolWaitMs: 1_500,
    };

    before(async () => {
      key = (await loadDemoKeys()).get('tenant-alpha') ?? '';
      platform = await startPlatform({
        topology: 'workers=2 serverless_burst=disabled',
        redisUrl: '',
      });
    });

    afterEach(async () => {
      for (const url of Object.values(platform.urls.providers)) await clearFaults(url);
    });

    after(async () => {
      await platform.stop();
    });

    /** Returns the time-to-first-token count of each chat candidate, as /metrics shows it. */
    async function firstTokenCounts(): Promise<{ providerA: number; providerB: number }> {
      const text = await scrape(platform.urls.gateway);
      const count = (labels: string) =>
        sample(text, 'scalegate_time_to_first_token_seconds_count', labels) ?? 0;
      return {
        providerA: count('provider="provider-a",model="gpt-4o"'),
        providerB: count('provider="provider-b",model="claude-sonnet"'),
      };
    }

    /** Posts the task and waits until its first step is stored as its checkpoint. */
    async function postAndWaitForStep1(): Promise<string> {
      const reply = await postTask(platform.urls.gateway, key, task);
      assert.equal(reply.status, 202);
      const id = String(reply.json.id);
      await waitFor(
        async () => (await platform.store.getById(id))?.checkpoint !== undefined,
        10_000,
      );
      return id;
    }

    it('labels with step 1 when step 2 fails over', async () => {
      const before = await firstTokenCounts();
      const id = await postAndWaitForStep1();
      await setFaults(platform.urls.providers['provider-a'], { errorRate: 1, errorStatus: 503 });
      const record = await terminalRecord(platform, id, 20_000);
      assert.equal(record.state, 'succeeded', JSON.stringify(record.error));
      assert.deepEqual(
        record.result?.attempts.map((attempt) => `${attempt.provider} ${attempt.outcome}`),
        ['provider-a success', 'provider-a failed', 'provider-b success'],
      );
      assert.equal(record.result?.provider, 'provider-b');
      assert.deepEqual(record.result?.firstTokenFrom, { provider: 'provider-a', model: 'gpt-4o' });
      const after = await firstTokenCounts();
      assert.equal(after.providerA - before.providerA, 1);
      assert.equal(after.providerB - before.providerB, 0);
    });

    it('labels with the failover target of step 1', async () => {
      const before = await firstTokenCounts();
      await setFaults(platform.urls.providers['provider-a'], { errorRate: 1, errorStatus: 503 });
      const id = await postAndWaitForStep1();
      await clearFaults(platform.urls.providers['provider-a']);
      const record = await terminalRecord(platform, id, 20_000);
      assert.equal(record.state, 'succeeded', JSON.stringify(record.error));
      assert.deepEqual(
        record.result?.attempts.map((attempt) => `${attempt.provider} ${attempt.outcome}`),
        ['provider-a failed', 'provider-b success', 'provider-a success'],
      );
      assert.equal(record.result?.provider, 'provider-a');
      assert.deepEqual(record.result?.firstTokenFrom, {
        provider: 'provider-b',
        model: 'claude-sonnet',
      });
      const after = await firstTokenCounts();
      assert.equal(after.providerA - before.providerA, 0);
      assert.equal(after.providerB - before.providerB, 1);
    });
  });
});
