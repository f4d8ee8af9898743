import assert from 'node:assert/strict';

import { systemClock } from '../../../src/platform/clock.js';
import { ServerlessExecutor } from '../../../src/platform/executors/serverless-executor.js';
import { RouterError } from '../../../src/platform/router/router-errors.js';
import { SpentTokensError } from '../../../src/platform/runtime/model-router.js';
import {
  ALPHA_KEY,
  bearer,
  completion,
  fakePlatform,
  SYNC_TASK,
} from '../gateway/fake-platform.js';

describe('ServerlessExecutor', () => {
  it('sends 504 at the integration timeout, then records the task', async () => {
    let executor: ServerlessExecutor | undefined;
    const platform = fakePlatform({
      executor: (router, finisher) => {
        executor = new ServerlessExecutor({
          router,
          finisher,
          clock: systemClock,
          emulator: { coldStartMs: 0, integrationTimeoutMs: 50 },
        });
        return executor;
      },
    });
    platform.router.behaviour = async () => {
      await systemClock.sleep(150);
      return completion('late');
    };
    const response = await platform.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 504);
    const { id, error } = response.json();
    assert.equal(error.code, 'serverless_integration_timeout');
    assert.equal((await platform.store.get('tenant-alpha', id))?.state, 'running');
    await systemClock.sleep(200);
    const record = await platform.store.get('tenant-alpha', id);
    assert.equal(record?.state, 'succeeded');
    assert.equal(executor?.emulator.stats().integrationTimeouts, 1);
  });

  it('adds billed duration to the task cost', async () => {
    const platform = fakePlatform({
      executor: (router, finisher) =>
        new ServerlessExecutor({
          router,
          finisher,
          clock: systemClock,
          emulator: { coldStartMs: 0, prices: { perGbSecondUsd: 0, perRequestUsd: 0.5 } },
        }),
    });
    const response = await platform.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().costUsd, 0.501);
  });

  it('rejects a throttled invocation with 429', async () => {
    const platform = fakePlatform({
      executor: (router, finisher) =>
        new ServerlessExecutor({
          router,
          finisher,
          clock: systemClock,
          emulator: { coldStartMs: 0, maxInstances: 1 },
        }),
    });
    platform.router.behaviour = async () => {
      await systemClock.sleep(100);
      return completion('slow');
    };
    const send = () =>
      platform.app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: bearer(ALPHA_KEY),
        payload: SYNC_TASK,
      });
    const [first, second] = await Promise.all([send(), send()]);
    const statuses = [first.statusCode, second.statusCode].sort();
    assert.deepEqual(statuses, [200, 429]);
    const throttled = first.statusCode === 429 ? first : second;
    assert.equal(throttled.headers['retry-after'], '1');
    assert.equal(throttled.json().error.code, 'serverless_throttled');
    assert.equal((await platform.admission.usage('tenant-alpha')).inFlight, 0);
  });

  it('charges streamed tokens at function timeout', async () => {
    const platform = fakePlatform({
      executor: (router, finisher) =>
        new ServerlessExecutor({
          router,
          finisher,
          clock: systemClock,
          emulator: { coldStartMs: 0, maxDurationMs: 50 },
        }),
    });
    // Like RouterModelPort, the aborted call rejects with the cost of the text it streamed.
    platform.router.behaviour = (input) =>
      new Promise((_resolve, reject) => {
        input.onToken?.('hello ');
        input.signal?.addEventListener('abort', () => {
          const aborted = new RouterError('client_aborted', 'the caller aborted the task');
          reject(new SpentTokensError(aborted, 0.25));
        });
      });
    const response = await platform.app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 504);
    assert.equal(response.json().error.code, 'serverless_function_timeout');
    await systemClock.sleep(20);
    const record = await platform.store.get('tenant-alpha', response.json().id);
    assert.equal(record?.state, 'failed');
    assert.equal(record?.costUsd, 0.25);
    assert.equal((await platform.admission.usage('tenant-alpha')).spentUsd, 0.25);
  });
});
