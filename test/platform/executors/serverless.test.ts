import assert from 'node:assert/strict';

import FakeTimers from '@sinonjs/fake-timers';

import { systemClock } from '../../../src/platform/clock.js';
import { ServerlessEmulator } from '../../../src/platform/executors/serverless.js';
import type {
  InvocationRecord,
  ServerlessHandler,
} from '../../../src/platform/executors/serverless.js';
import {
  isServerlessError,
  ServerlessError,
} from '../../../src/platform/executors/serverless-errors.js';
import type { ServerlessOptions } from '../../../src/platform/executors/serverless-options.js';

describe('ServerlessEmulator', () => {
  let clock: ReturnType<typeof FakeTimers.install>;

  beforeEach(() => {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
  });

  afterEach(() => {
    clock.uninstall();
  });

  const waitFor =
    (ms: number): ServerlessHandler<string, string> =>
    async (input, context) => {
      await systemClock.sleep(ms, context.signal);
      return `done:${input}`;
    };

  function emulator(handler: ServerlessHandler<string, string>, options: ServerlessOptions = {}) {
    return new ServerlessEmulator(handler, { clock: systemClock, ...options });
  }

  async function errorCode(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      return isServerlessError(error) ? error.code : 'other';
    }
    return 'none';
  }

  it('pays the cold start once, then reuses the instance', async () => {
    const fn = emulator(waitFor(100), { coldStartMs: 400 });
    const first = fn.invoke('a');
    await clock.tickAsync(499);
    let settled = false;
    void first.then(() => {
      settled = true;
    });
    await clock.tickAsync(0);
    assert.equal(settled, false);
    await clock.tickAsync(1);
    assert.equal((await first).coldStart, true);
    const second = fn.invoke('b');
    await clock.tickAsync(100);
    const result = await second;
    assert.equal(result.coldStart, false);
    assert.equal(result.value, 'done:b');
    assert.equal(fn.stats().coldStarts, 1);
  });

  it('throttles at the concurrency cap', async () => {
    const fn = emulator(waitFor(1_000), { maxInstances: 2, coldStartMs: 0 });
    const running = [fn.invoke('a'), fn.invoke('b')];
    const code = await errorCode(fn.invoke('c'));
    assert.equal(code, 'throttled');
    assert.equal(fn.stats().throttles, 1);
    await clock.tickAsync(1_000);
    await Promise.all(running);
  });

  it('limits new instances to the scale-out rate', async () => {
    const fn = emulator(waitFor(5_000), { scaleOutPerSecond: 2, maxInstances: 10, coldStartMs: 0 });
    const running = [fn.invoke('a'), fn.invoke('b')];
    const throttled = fn.invoke('c');
    const code = await errorCode(throttled);
    assert.equal(code, 'throttled');
    await clock.tickAsync(500);
    running.push(fn.invoke('d'));
    assert.equal(fn.stats().instances, 3);
    await clock.tickAsync(5_000);
    await Promise.all(running);
  });

  it('aborts the handler at the function timeout', async () => {
    let aborted = false;
    const fn = emulator(
      (_input, context) =>
        new Promise<string>(() => {
          context.signal.addEventListener('abort', () => {
            aborted = true;
          });
        }),
      { maxDurationMs: 3_000, coldStartMs: 0 },
    );
    const records: InvocationRecord[] = [];
    fn.on('invocation', (record) => records.push(record));
    const code = errorCode(fn.invoke('a'));
    // A handler that never rejects is waited for 100 ms past the timeout.
    await clock.tickAsync(3_100);
    assert.equal(await code, 'function_timeout');
    assert.equal(aborted, true);
    assert.equal(records[0]?.billedMs, 3_000);
    assert.equal(records[0]?.outcome, 'function_timeout');
    assert.equal(fn.stats().instances, 0);
  });

  it('keeps the aborted handler rejection as cause', async () => {
    const spent = new Error('aborted after streaming 40 tokens');
    const fn = emulator(
      (_input, context) =>
        new Promise<string>((_resolve, reject) => {
          context.signal.addEventListener('abort', () => reject(spent));
        }),
      { maxDurationMs: 3_000, coldStartMs: 0 },
    );
    const rejection = fn.invoke('a').then(
      () => assert.fail('the invocation resolved'),
      (error: unknown) => error,
    );
    await clock.tickAsync(3_000);
    const error = await rejection;
    assert.ok(error instanceof ServerlessError);
    assert.equal(error.code, 'function_timeout');
    assert.equal(error.cause, spent);
  });

  it('times out the client at 29 s, function runs on', async () => {
    const fn = emulator(waitFor(40_000), { coldStartMs: 0, integrationTimeoutMs: 29_000 });
    const records: InvocationRecord[] = [];
    fn.on('invocation', (record) => records.push(record));
    const code = errorCode(fn.invoke('a'));
    await clock.tickAsync(29_000);
    assert.equal(await code, 'integration_timeout');
    assert.equal(records.length, 0);
    await clock.tickAsync(11_000);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.clientTimedOut, true);
    assert.equal(records[0]?.outcome, 'success');
    assert.equal(records[0]?.billedMs, 40_000);
    assert.equal(fn.stats().integrationTimeouts, 1);
  });

  it('reclaims an idle instance', async () => {
    const fn = emulator(waitFor(10), { coldStartMs: 50, idleReclaimMs: 60_000 });
    const reclaimed: number[] = [];
    fn.on('reclaimed', ({ instanceId }) => reclaimed.push(instanceId));
    const first = fn.invoke('a');
    await clock.tickAsync(60);
    await first;
    await clock.tickAsync(60_000);
    assert.deepEqual(reclaimed, [1]);
    assert.equal(fn.stats().instances, 0);
    const second = fn.invoke('b');
    await clock.tickAsync(60);
    assert.equal((await second).coldStart, true);
  });

  it('keeps no instance warm after close', async () => {
    const fn = emulator(waitFor(100), { coldStartMs: 50, idleReclaimMs: 300_000 });
    const running = fn.invoke('a').catch(() => undefined);
    await clock.tickAsync(60);
    fn.close();
    await clock.tickAsync(100);
    await running;
    assert.equal(clock.countTimers(), 0);
    assert.equal(fn.stats().instances, 0);
  });

  it('bills per millisecond of duration times memory', async () => {
    const fn = emulator(waitFor(1_500), {
      coldStartMs: 200,
      memoryMb: 2048,
      prices: { perGbSecondUsd: 0.0000166667, perRequestUsd: 0.0000002 },
    });
    const invocation = fn.invoke('a');
    await clock.tickAsync(1_700);
    const result = await invocation;
    assert.equal(result.billedMs, 1_500);
    assert.equal(result.costUsd, 1.5 * 2 * 0.0000166667 + 0.0000002);
  });

  it('rejects an invalid option by name', () => {
    assert.throws(
      () => emulator(waitFor(1), { maxInstances: 0 }),
      /maxInstances must be an integer >= 1, got 0/,
    );
    assert.throws(
      () => emulator(waitFor(1), { coldStartMs: -5 }),
      /coldStartMs must be a number >= 0, got -5/,
    );
  });
});
