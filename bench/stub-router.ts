/** A router port for benches that returns at once, without a provider call. */
import type { ModelRouterPort } from '../src/platform/runtime/model-router.js';

/** A router that returns at once, to separate the platform's own cost from the provider call. */
export const STUB_ROUTER: ModelRouterPort = {
  call: async () => ({
    tokenCostUsd: 0,
    result: {
      text: 'stub',
      usage: { inputTokens: 7, outputTokens: 8 },
      provider: 'instant',
      model: 'instant',
      attempts: [],
      timeToFirstTokenMs: 0,
    },
  }),
};
