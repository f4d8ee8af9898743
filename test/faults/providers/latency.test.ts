import assert from 'node:assert/strict';

import {
  loadProviderProfile,
  type MockProvider,
  planCompletion,
  startMockProvider,
} from '../../../src/faults/providers/index.js';
import { totalGenerationMs } from '../../../src/faults/providers/completion-plan.js';
import { createPrng, deriveSeed, mixSeed } from '../../../src/faults/providers/prng.js';
import { OPENAI_AUTH, postJson, postStream, VirtualClock } from './support.js';

const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Plan a trip.' }] };

describe('MockProvider latency', () => {
  const started: MockProvider[] = [];

  afterEach(async () => {
    await Promise.all(started.splice(0).map((provider) => provider.close()));
  });

  async function start(seed: number, clock: VirtualClock): Promise<string> {
    const profile = await loadProviderProfile('provider-a');
    const provider = await startMockProvider({ profile, seed, clock });
    started.push(provider);
    return `${provider.url}/v1/chat/completions`;
  }

  async function sleepsFor(seed: number, requests: number): Promise<number[]> {
    const clock = new VirtualClock();
    const url = await start(seed, clock);
    for (let index = 0; index < requests; index += 1) {
      await postJson(url, body, OPENAI_AUTH);
    }
    return clock.sleeps;
  }

  it('waits ttft plus tokens over rate before a JSON answer', async () => {
    const clock = new VirtualClock();
    const url = await start(11, clock);
    const response = await postJson(url, body, OPENAI_AUTH);
    const profile = await loadProviderProfile('provider-a');
    const model = profile.models[0];
    assert.ok(model !== undefined);
    const prng = createPrng(mixSeed(deriveSeed(11, 'provider-a'), 0));
    prng(); // the fault roll comes first
    const inputs = {
      maxTokens: undefined,
      forcedOutputTokens: undefined,
      firstTokenDelayMs: undefined,
    };
    const plan = planCompletion(model, inputs, prng);
    assert.deepEqual(clock.sleeps, [totalGenerationMs(plan)]);
    const usage = response.body.usage as Record<string, number>;
    assert.equal(usage.completion_tokens, plan.outputTokens);
  });

  it('repeats the same waits for the same seed', async () => {
    const first = await sleepsFor(5, 6);
    const second = await sleepsFor(5, 6);
    assert.equal(first.length, 6);
    assert.deepEqual(first, second);
  });

  it('draws different waits for another seed', async () => {
    const first = await sleepsFor(5, 6);
    const other = await sleepsFor(6, 6);
    assert.notDeepEqual(first, other);
  });

  it('delays the first streamed token by firstTokenDelayMs', async () => {
    const clock = new VirtualClock();
    const url = await start(3, clock);
    const provider = started[0];
    provider?.setFaults({ firstTokenDelayMs: 2500 });
    const headers = { ...OPENAI_AUTH, 'x-scalegate-output-tokens': '5' };
    const result = await postStream(url, body, headers);
    assert.equal(result.status, 200);
    assert.equal(clock.sleeps[0], 2500);
    assert.equal(clock.sleeps.length, 5);
  });

  it('paces streamed tokens at the drawn rate', async () => {
    const clock = new VirtualClock();
    const url = await start(4, clock);
    const headers = { ...OPENAI_AUTH, 'x-scalegate-output-tokens': '10' };
    await postStream(url, body, headers);
    const gaps = clock.sleeps.slice(1);
    assert.equal(gaps.length, 9);
    const rate = 1000 / (gaps[0] ?? Number.NaN);
    assert.ok(rate > 20, `rate ${rate} tokens/s is far below the profile's mean of 80`);
    assert.ok(rate < 140, `rate ${rate} tokens/s is far above the profile's mean of 80`);
    for (const gap of gaps) {
      assert.ok(Math.abs(gap - (gaps[0] ?? 0)) < 1e-6);
    }
  });
});

describe('planCompletion', () => {
  it('draws ttft with the profile median and p95', async () => {
    const profile = await loadProviderProfile('provider-a');
    const model = profile.models[0];
    assert.ok(model !== undefined);
    const prng = createPrng(99);
    const inputs = {
      maxTokens: undefined,
      forcedOutputTokens: undefined,
      firstTokenDelayMs: undefined,
    };
    const samples = Array.from({ length: 20_000 }, () => planCompletion(model, inputs, prng));
    const ttfts = samples.map((plan) => plan.timeToFirstTokenMs).sort((a, b) => a - b);
    const median = ttfts[10_000] ?? 0;
    const p95 = ttfts[19_000] ?? 0;
    assert.ok(Math.abs(median / 350 - 1) < 0.05, `median ${median}`);
    assert.ok(Math.abs(p95 / 900 - 1) < 0.06, `p95 ${p95}`);
    const rates = samples.map((plan) => plan.tokensPerSecond);
    const mean = rates.reduce((sum, rate) => sum + rate, 0) / rates.length;
    assert.ok(Math.abs(mean - 80) < 1, `mean rate ${mean}`);
    assert.ok(Math.min(...rates) >= 1);
  });

  it('stops a forced length at max_tokens', async () => {
    const profile = await loadProviderProfile('provider-a');
    const model = profile.models[0];
    assert.ok(model !== undefined);
    const inputs = { maxTokens: 16, forcedOutputTokens: 20_000, firstTokenDelayMs: undefined };
    const plan = planCompletion(model, inputs, createPrng(1));
    assert.equal(plan.outputTokens, 16);
    assert.equal(plan.finishReason, 'length');
    const within = { ...inputs, forcedOutputTokens: 9 };
    assert.equal(planCompletion(model, within, createPrng(1)).outputTokens, 9);
    assert.equal(planCompletion(model, within, createPrng(1)).finishReason, 'stop');
  });
});
