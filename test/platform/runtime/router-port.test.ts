import assert from 'node:assert/strict';

import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import type { Router } from '../../../src/platform/router/router.js';
import { RouterModelPort } from '../../../src/platform/runtime/router-port.js';
import type { TaskResult } from '../../../src/platform/task.js';

/** A router whose every call returns `result`. */
function routerReturning(result: TaskResult): Router {
  return { execute: async () => result } as unknown as Router;
}

const CALL = {
  tenantId: 'tenant-alpha',
  route: 'chat',
  priority: 'standard',
  messages: [{ role: 'user', content: 'hello' }],
  maxOutputTokens: 100,
} as const;

describe('RouterModelPort', () => {
  it('prices the serving attempt from the result usage', async () => {
    const port = new RouterModelPort(
      routerReturning({
        text: 'done',
        usage: { inputTokens: 1_000, outputTokens: 500 },
        provider: 'provider-b',
        model: 'claude-sonnet',
        attempts: [
          { provider: 'provider-b', model: 'claude-sonnet', outcome: 'success', latencyMs: 5 },
        ],
        timeToFirstTokenMs: 1,
      }),
      await loadPriceTable(),
    );
    const output = await port.call({ ...CALL, messages: [...CALL.messages] });
    // 1,000 input tokens at $3 and 500 output tokens at $15 per million.
    assert.equal(output.tokenCostUsd, 0.003 + 0.0075);
  });

  it('adds the tokens a failed attempt streamed before the failover', async () => {
    const port = new RouterModelPort(
      routerReturning({
        text: 'done',
        usage: { inputTokens: 1_000, outputTokens: 500 },
        provider: 'provider-b',
        model: 'claude-sonnet',
        attempts: [
          {
            provider: 'provider-a',
            model: 'gpt-4o',
            outcome: 'failed',
            errorClass: 'stream_truncated',
            latencyMs: 40,
            usage: { inputTokens: 1_000, outputTokens: 40 },
          },
          { provider: 'provider-b', model: 'claude-sonnet', outcome: 'success', latencyMs: 5 },
        ],
        timeToFirstTokenMs: 1,
      }),
      await loadPriceTable(),
    );
    const output = await port.call({ ...CALL, messages: [...CALL.messages] });
    // provider-b as above, plus 1,000 input tokens at $2.5 and 40 output tokens at $10 per million.
    assert.equal(output.tokenCostUsd, 0.003 + 0.0075 + (0.0025 + 0.0004));
  });
});
