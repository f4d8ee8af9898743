import assert from 'node:assert/strict';

import { systemClock } from '../../../src/platform/clock.js';
import { ServerlessExecutor } from '../../../src/platform/executors/serverless-executor.js';
import type { ServerlessOptions } from '../../../src/platform/executors/serverless-options.js';
import { RouterError } from '../../../src/platform/router/router-errors.js';
import { SpentTokensError } from '../../../src/platform/runtime/model-router.js';
import {
  ALPHA_KEY,
  bearer,
  completion,
  fakePlatform,
  RecordingOwners,
  SYNC_TASK,
} from '../gateway/fake-platform.js';

/** Creates a fake platform whose sync tasks run on a serverless executor with `emulator`. */
function serverlessPlatform(emulator: ServerlessOptions, syncOwners?: RecordingOwners) {
  let executor: ServerlessExecutor | undefined;
  const platform = fakePlatform({
    syncOwners,
    executor: (router, finisher) => {
      executor = new ServerlessExecutor({ router, finisher, clock: systemClock, emulator });
      return executor;
    },
  });
  if (executor === undefined) throw new Error('fakePlatform did not create the executor');
  return { platform, executor };
}

function submitTask(platform: ReturnType<typeof fakePlatform>, payload: object = SYNC_TASK) {
  return platform.app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: bearer(ALPHA_KEY),
    payload,
  });
}

/** Returns the `event: error` data of an SSE body, or undefined when it has none. */
function sseErrorEvent(body: string): Record<string, unknown> | undefined {
  const block = body.split('\n\n').find((item) => item.startsWith('event: error'));
  const dataLine = block?.split('\n')[1];
  return dataLine === undefined ? undefined : JSON.parse(dataLine.replace('data: ', ''));
}

describe('ServerlessExecutor', () => {
  it('sends 504 at the integration timeout, then records the task', async () => {
    const { platform, executor } = serverlessPlatform({ coldStartMs: 0, integrationTimeoutMs: 50 });
    platform.router.behaviour = async () => {
      await systemClock.sleep(150);
      return completion('late');
    };
    const response = await submitTask(platform);
    assert.equal(response.statusCode, 504);
    const { id, error } = response.json();
    assert.equal(error.code, 'serverless_integration_timeout');
    assert.match(error.message, new RegExp(`task ${id} keeps running`));
    assert.match(error.message, new RegExp(`GET /v1/tasks/${id}`));
    assert.match(error.message, /mode async for tasks that may run longer than 50 ms/);
    assert.equal((await platform.store.get('tenant-alpha', id))?.state, 'running');
    await systemClock.sleep(200);
    const record = await platform.store.get('tenant-alpha', id);
    assert.equal(record?.state, 'succeeded');
    assert.equal(executor.emulator.stats().integrationTimeouts, 1);
  });

  it('keeps the owner record past the 504', async () => {
    const owners = new RecordingOwners();
    const emulator = { coldStartMs: 0, integrationTimeoutMs: 50 };
    const { platform } = serverlessPlatform(emulator, owners);
    platform.router.behaviour = async () => {
      await systemClock.sleep(150);
      return completion('late');
    };
    const response = await submitTask(platform);
    assert.equal(response.statusCode, 504);
    const { id } = response.json();
    // The task still runs, so another process must still be able to take it over.
    assert.deepEqual(owners.events, [`hold ${id}`]);
    await systemClock.sleep(200);
    assert.deepEqual(owners.events, [`hold ${id}`, `drop ${id}`]);
  });

  it('adds billed duration to the task cost', async () => {
    const { platform } = serverlessPlatform({
      coldStartMs: 0,
      prices: { perGbSecondUsd: 0, perRequestUsd: 0.5 },
    });
    const response = await submitTask(platform);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().costUsd, 0.501);
  });

  it('rejects a throttled invocation with 429', async () => {
    const { platform } = serverlessPlatform({ coldStartMs: 0, maxInstances: 1 });
    platform.router.behaviour = async () => {
      await systemClock.sleep(100);
      return completion('slow');
    };
    const [first, second] = await Promise.all([submitTask(platform), submitTask(platform)]);
    const statuses = [first.statusCode, second.statusCode].sort();
    assert.deepEqual(statuses, [200, 429]);
    const throttled = first.statusCode === 429 ? first : second;
    assert.equal(throttled.headers['retry-after'], '1');
    assert.equal(throttled.json().error.code, 'serverless_throttled');
    assert.equal((await platform.admission.usage({ id: 'tenant-alpha' })).inFlight, 0);
  });

  it('charges streamed tokens at function timeout', async () => {
    const { platform } = serverlessPlatform({ coldStartMs: 0, maxDurationMs: 50 });
    // Like RouterModelPort, the aborted call rejects with the cost of the text it streamed.
    platform.router.behaviour = (input) =>
      new Promise((_resolve, reject) => {
        input.onToken?.('hello ');
        input.signal?.addEventListener('abort', () => {
          const aborted = new RouterError('client_aborted', 'the caller aborted the task');
          reject(new SpentTokensError(aborted, 0.25));
        });
      });
    const response = await submitTask(platform);
    assert.equal(response.statusCode, 504);
    assert.equal(response.json().error.code, 'serverless_function_timeout');
    await systemClock.sleep(20);
    const record = await platform.store.get('tenant-alpha', response.json().id);
    assert.equal(record?.state, 'failed');
    assert.equal(record?.costUsd, 0.25);
    assert.equal((await platform.admission.usage({ id: 'tenant-alpha' })).spentUsd, 0.25);
  });

  it('names the running task in a stream timeout', async () => {
    const { platform } = serverlessPlatform({ coldStartMs: 0, integrationTimeoutMs: 50 });
    platform.router.behaviour = async (input) => {
      input.onToken?.('early ');
      await systemClock.sleep(150);
      return completion('early late');
    };
    const response = await submitTask(platform, { ...SYNC_TASK, stream: true });
    assert.equal(response.statusCode, 200);
    const event = sseErrorEvent(response.body);
    assert.equal(event?.code, 'serverless_integration_timeout');
    const id = String(event?.id);
    assert.match(String(event?.message), new RegExp(`GET /v1/tasks/${id}`));
    assert.match(String(event?.message), /mode async for tasks that may run longer than 50 ms/);
    await systemClock.sleep(200);
    assert.equal((await platform.store.get('tenant-alpha', id))?.state, 'succeeded');
  });

  it('rejects sync tool waits beyond the integration timeout', async () => {
    const { platform } = serverlessPlatform({ coldStartMs: 0, integrationTimeoutMs: 1_000 });
    const longWaits = { ...SYNC_TASK, steps: 2, toolWaitMs: 500 };
    for (const payload of [longWaits, { ...longWaits, stream: true }]) {
      const response = await submitTask(platform, payload);
      assert.equal(response.statusCode, 400);
      const { error } = response.json();
      assert.equal(error.code, 'exceeds_integration_timeout');
      assert.equal(error.limit, 'integrationTimeoutMs');
      assert.match(error.message, /integration timeout of 1000 ms, got 2 \* 500 = 1000 ms/);
      assert.match(error.message, /send mode async/);
    }
    assert.equal(platform.router.calls.length, 0);
    const asyncResponse = await submitTask(platform, { ...longWaits, mode: 'async' });
    assert.equal(asyncResponse.statusCode, 202);
    // 2 ms of tool waits leave the run most of the timeout, even on a loaded machine.
    const shortWaits = await submitTask(platform, { ...longWaits, toolWaitMs: 1 });
    assert.equal(shortWaits.statusCode, 200);
  });
});
