import assert from 'node:assert/strict';

import { loadProviderCatalog } from '../../../src/faults/providers/index.js';
import { loadPriceTable } from '../../../src/platform/cost/index.js';
import { loadPolicy, RouteOutputLimits } from '../../../src/platform/router/index.js';
import type { MaxCostEstimator } from '../../../src/platform/runtime/admission-gate.js';
import { routeMaxCost } from '../../../src/platform/runtime/route-max-cost.js';
import type { TaskRequest } from '../../../src/platform/task.js';

/** Builds the reservation estimator of `policies/default.yaml`, the shipped catalog and prices. */
async function defaultEstimator(): Promise<MaxCostEstimator> {
  const catalog = await loadProviderCatalog();
  const policy = await loadPolicy('policies/default.yaml', catalog);
  return routeMaxCost(await loadPriceTable(), new RouteOutputLimits(policy, catalog));
}

function task(route: string, maxOutputTokens: number): TaskRequest {
  return { route, maxOutputTokens, mode: 'sync', priority: 'standard' };
}

// chat-fast calls claude-sonnet ($3 in, $15 out per million tokens, limit 8,192) and
// gpt-4o ($2.5 in, $10 out, limit 16,384).
describe('routeMaxCost', () => {
  it('prices at the dearest candidate when all can serve', async () => {
    const estimate = await defaultEstimator();
    const costUsd = estimate(task('chat-fast', 8192), { inputTokens: 1000, outputTokens: 8192 });
    assert.equal(costUsd, 0.12588);
  });

  it('leaves out a dearer candidate below maxOutputTokens', async () => {
    const estimate = await defaultEstimator();
    const costUsd = estimate(task('chat-fast', 8193), { inputTokens: 1000, outputTokens: 8193 });
    assert.equal(costUsd, 0.08443);
  });

  it('prices the tokens of every step', async () => {
    const estimate = await defaultEstimator();
    const request = { ...task('chat-fast', 10_000), steps: 3 };
    const costUsd = estimate(request, { inputTokens: 3000, outputTokens: 30_000 });
    assert.equal(costUsd, 0.3075);
  });

  it('reserves nothing for a task no candidate can serve', async () => {
    const estimate = await defaultEstimator();
    const costUsd = estimate(task('chat', 16_385), { inputTokens: 1000, outputTokens: 16_385 });
    assert.equal(costUsd, 0);
  });
});
