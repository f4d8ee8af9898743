import assert from 'node:assert/strict';

import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import { RouterError } from '../../../src/platform/router/router-errors.js';
import type { Router } from '../../../src/platform/router/router.js';
import { SpentTokensError } from '../../../src/platform/runtime/model-router.js';
import { RouterModelPort } from '../../../src/platform/runtime/router-port.js';
import type { AttemptRecord, TaskResult } from '../../../src/platform/task.js';

/** Creates a router whose every call returns a claude-sonnet result after `failed` attempts. */
function routerServingSonnet(failed: AttemptRecord[]): Router {
  const result: TaskResult = {
    text: 'done',
    usage: { inputTokens: 1_000, outputTokens: 500 },
    provider: 'provider-b',
    model: 'claude-sonnet',
    attempts: [
      ...failed,
      { provider: 'provider-b', model: 'claude-sonnet', outcome: 'success', latencyMs: 5 },
    ],
    timeToFirstTokenMs: 1,
  };
  return { execute: async () => result } as unknown as Router;
}

/** Creates a router whose every call rejects with `error`. */
function routerFailing(error: Error): Router {
  return {
    execute: async () => {
      throw error;
    },
  } as unknown as Router;
}

const CUT_ATTEMPT: AttemptRecord = {
  provider: 'provider-a',
  model: 'gpt-4o',
  outcome: 'failed',
  errorClass: 'stream_truncated',
  latencyMs: 40,
  usage: { inputTokens: 1_000, outputTokens: 40 },
};

const CALL = {
  tenantId: 'tenant-alpha',
  route: 'chat',
  priority: 'standard',
  messages: [{ role: 'user', content: 'hello' }],
  maxOutputTokens: 100,
} as const;

describe('RouterModelPort', () => {
  it('prices the serving attempt from the result usage', async () => {
    const port = new RouterModelPort(routerServingSonnet([]), await loadPriceTable());
    const output = await port.call({ ...CALL, messages: [...CALL.messages] });
    // 1,000 input tokens at $3 and 500 output tokens at $15 per million: 0.003 + 0.0075, which
    // float addition makes 0.010499999999999999.
    assert.equal(output.tokenCostUsd, 0.0105);
  });

  it('adds the tokens a failed attempt streamed before the failover', async () => {
    const port = new RouterModelPort(routerServingSonnet([CUT_ATTEMPT]), await loadPriceTable());
    const output = await port.call({ ...CALL, messages: [...CALL.messages] });
    // provider-b as above, plus 1,000 input tokens at $2.5 and 40 output tokens at $10 per million.
    assert.equal(output.tokenCostUsd, 0.0134);
  });

  it('rejects with the cost of the text a failed call streamed', async () => {
    const cause = new RouterError('upstream_error', 'every candidate failed', {
      attempts: [
        CUT_ATTEMPT,
        { provider: 'provider-b', model: 'claude-sonnet', outcome: 'failed', latencyMs: 3 },
      ],
    });
    const port = new RouterModelPort(routerFailing(cause), await loadPriceTable());
    await assert.rejects(port.call({ ...CALL, messages: [...CALL.messages] }), (error) => {
      assert.ok(error instanceof SpentTokensError);
      assert.equal(error.cause, cause);
      // 1,000 input tokens at $2.5 and 40 output tokens at $10 per million.
      assert.equal(error.tokenCostUsd, 0.0029);
      return true;
    });
  });

  it('rejects with the router error itself when no attempt streamed text', async () => {
    const cause = new RouterError('provider_unavailable', 'all breakers open');
    const port = new RouterModelPort(routerFailing(cause), await loadPriceTable());
    await assert.rejects(port.call({ ...CALL, messages: [...CALL.messages] }), (error) => {
      assert.equal(error, cause);
      return true;
    });
  });
});
