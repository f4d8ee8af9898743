import assert from 'node:assert/strict';
import {
  isRouterError,
  isStreamInterruptedError,
  RouterError,
  type RouterStreamEvent,
} from '../../../src/platform/router/index.js';
import type { AttemptRecord } from '../../../src/platform/task.js';
import type { Clock } from '../../../src/platform/clock.js';
import type { BreakerTransition } from '../../../src/platform/router/breaker-state.js';
import type { RouterEventMap } from '../../../src/platform/router/router-events.js';
import { createTestClock } from '../providers/test-clock.js';
import { REQUEST, type Rig, rejectionOf, route, startRig } from './router-fixtures.js';

async function collect(events: AsyncIterable<RouterStreamEvent>): Promise<RouterStreamEvent[]> {
  const result: RouterStreamEvent[] = [];
  for await (const event of events) {
    result.push(event);
  }
  return result;
}

/** Returns a test clock and a clock over it that lists the length of every sleep. */
function recordingSleeps(): {
  clock: ReturnType<typeof createTestClock>;
  recording: Clock;
  sleeps: number[];
} {
  const clock = createTestClock();
  const sleeps: number[] = [];
  const recording: Clock = {
    ...clock,
    sleep: (ms, signal) => {
      sleeps.push(ms);
      return clock.sleep(ms, signal);
    },
  };
  return { clock, recording, sleeps };
}

describe('Router', () => {
  let rig: Rig | undefined;

  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('fails over when the primary stream is cut after 40 of 60 tokens', async () => {
    rig = await startRig(
      {
        oa: () => ({ kind: 'stream', tokens: 60, cutAfter: 40 }),
        an: () => ({ kind: 'stream', tokens: 60 }),
      },
      route(),
    );
    const result = await rig.router.execute('chat', REQUEST);
    assert.equal(result.provider, 'an');
    assert.equal(result.usage.outputTokens, 60);
    assert.deepEqual(
      result.attempts.map((attempt) => [attempt.provider, attempt.outcome, attempt.errorClass]),
      [
        ['oa', 'failed', 'stream_truncated'],
        ['an', 'success', undefined],
      ],
    );
    // The cut primary used its prompt and 40 tokens. The placeholder prompt "Synthetic
    // prompt of 0 tokens." has 29 characters, so 8 tokens at 4 characters each.
    assert.deepEqual(result.attempts[0]?.usage, { inputTokens: 8, outputTokens: 40 });
    assert.equal(result.attempts[1]?.usage, undefined);
  });

  it('awaits beforeRetry before each retry', async () => {
    rig = await startRig(
      {
        oa: () => ({ kind: 'stream', tokens: 60, cutAfter: 40 }),
        an: () => ({ kind: 'stream', tokens: 60 }),
      },
      route(),
    );
    const seen: string[][] = [];
    const beforeRetry = async (attempts: readonly AttemptRecord[]) => {
      seen.push(attempts.map((attempt) => `${attempt.provider} ${attempt.outcome}`));
    };
    const result = await rig.router.execute('chat', REQUEST, { beforeRetry });
    assert.equal(result.provider, 'an');
    assert.deepEqual(seen, [['oa failed']]);
  });

  it('ends the task when beforeRetry rejects', async () => {
    rig = await startRig(
      {
        oa: () => ({ kind: 'stream', tokens: 60, cutAfter: 40 }),
        an: () => ({ kind: 'stream', tokens: 60 }),
      },
      route(),
    );
    const stop = new RouterError('budget_exhausted', 'budget spent');
    const error = await rejectionOf(
      rig.router.execute('chat', REQUEST, { beforeRetry: () => Promise.reject(stop) }),
    );
    assert.equal(error, stop);
    assert.equal(rig.servers.oa?.requests.length, 1);
    assert.equal(rig.servers.an?.requests.length, 0);
  });

  it('skips beforeRetry when no call can follow', async () => {
    rig = await startRig(
      {
        oa: () => ({ kind: 'stream', tokens: 60, cutAfter: 40 }),
        an: () => ({ kind: 'stream', tokens: 60, cutAfter: 40 }),
      },
      route({ retryBudget: { windowMs: 10_000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 2 } }),
    );
    let calls = 0;
    const beforeRetry = async () => {
      calls += 1;
    };
    const error = await rejectionOf(rig.router.execute('chat', REQUEST, { beforeRetry }));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'upstream_error');
    // Once before the second attempt; the attempt limit ends the task without a third.
    assert.equal(calls, 1);
  });

  it('bills the prompt of an accepted primary cut before its first token', async () => {
    rig = await startRig(
      {
        oa: () => ({ kind: 'stream', tokens: 60, cutAfter: 0 }),
        an: () => ({ kind: 'stream', tokens: 3 }),
      },
      route(),
    );
    const result = await rig.router.execute('chat', { ...REQUEST, inputTokens: 120 });
    assert.equal(result.provider, 'an');
    assert.equal(result.attempts[0]?.errorClass, 'stream_truncated');
    assert.deepEqual(result.attempts[0]?.usage, { inputTokens: 120, outputTokens: 0 });
  });

  it('records no usage for a primary that answered an error status', async () => {
    rig = await startRig(
      {
        oa: () => ({ kind: 'status', status: 503 }),
        an: () => ({ kind: 'stream', tokens: 3 }),
      },
      route(),
    );
    const result = await rig.router.execute('chat', { ...REQUEST, inputTokens: 120 });
    assert.equal(result.provider, 'an');
    assert.equal(result.attempts[0]?.errorClass, 'status_5xx');
    assert.equal(result.attempts[0]?.usage, undefined);
  });

  it('records no usage for a primary that never answered', async () => {
    const clock = createTestClock();
    rig = await startRig(
      {
        oa: () => ({ kind: 'hang' }),
        an: () => ({ kind: 'stream', tokens: 3 }),
      },
      route({ firstTokenTimeoutMs: 2000, deadlineMs: 30_000 }),
      { clock },
    );
    const result = await clock.drive(rig.router.execute('chat', { ...REQUEST, inputTokens: 120 }));
    assert.equal(result.provider, 'an');
    assert.equal(result.attempts[0]?.errorClass, 'first_token_timeout');
    assert.equal(result.attempts[0]?.usage, undefined);
  });

  it('streams only the fallback when the primary fails before its first token', async () => {
    rig = await startRig(
      {
        oa: () => ({ kind: 'stream', tokens: 60, cutAfter: 0 }),
        an: () => ({ kind: 'stream', tokens: 3 }),
      },
      route(),
    );
    const events = await collect(rig.router.stream('chat', REQUEST));
    const text = events.flatMap((event) => (event.type === 'delta' ? [event.text] : [])).join('');
    assert.equal(text, 't0 t1 t2 ');
    assert.equal(events.at(-1)?.type, 'done');
  });

  it('ends a stream cut after its first token with an error event', async () => {
    rig = await startRig({ oa: () => ({ kind: 'stream', tokens: 60, cutAfter: 40 }) }, route());
    const events = await collect(rig.router.stream('chat', REQUEST));
    const last = events.at(-1);
    const text = events.flatMap((event) => (event.type === 'delta' ? [event.text] : [])).join('');
    const sent = Array.from({ length: 40 }, (_, index) => `t${index} `).join('');
    assert.equal(text, sent);
    assert.equal(last?.type, 'error');
    assert.ok(last?.type === 'error');
    assert.ok(isStreamInterruptedError(last.error));
    assert.equal(last.error.errorClass, 'stream_truncated');
    assert.equal(last.error.httpStatus, 502);
    const hint =
      "; check oa's stream: the faults of a mock provider (GET /_control/faults) " +
      'and the toxics of its fault proxy (GET /proxies/oa/toxics)';
    assert.ok(last.error.message.endsWith(hint), last.error.message);
    assert.equal(rig.servers.an?.requests.length, 0);
  });

  it('fails over on an overloaded_error event before the first token', async () => {
    const candidates = [
      { provider: 'an', model: 'm2', weight: 1 },
      { provider: 'oa', model: 'm1', weight: 0 },
    ];
    rig = await startRig(
      { an: () => ({ kind: 'stream', tokens: 5, errorAfter: 0, errorType: 'overloaded_error' }) },
      route({ candidates }),
    );
    const result = await rig.router.execute('chat', REQUEST);
    assert.equal(result.provider, 'oa');
    assert.equal(result.attempts[0]?.errorClass, 'stream_error_event');
  });

  it('abandons a slow first token at 2 s and fails over', async () => {
    const clock = createTestClock();
    rig = await startRig(
      {
        oa: () => ({ kind: 'stream', tokens: 3, firstChunkDelayMs: 10_000 }),
        an: () => ({ kind: 'stream', tokens: 3 }),
      },
      route({ firstTokenTimeoutMs: 2000, deadlineMs: 30_000 }),
      { clock },
    );
    const started = clock.monotonic();
    const result = await clock.drive(rig.router.execute('chat', { ...REQUEST, inputTokens: 120 }));
    const elapsed = clock.monotonic() - started;
    assert.equal(result.provider, 'an');
    assert.equal(result.attempts[0]?.errorClass, 'first_token_timeout');
    // The provider answered 200 before its first token, so the prompt is billed.
    assert.deepEqual(result.attempts[0]?.usage, { inputTokens: 120, outputTokens: 0 });
    assert.ok(elapsed >= 2000, `elapsed ${elapsed} ms`);
    assert.ok(elapsed < 2600, `elapsed ${elapsed} ms`);
  });

  it('ends a task on a silent provider at its 8 s deadline', async () => {
    const clock = createTestClock();
    const single = [{ provider: 'oa', model: 'm1', weight: 1 }];
    rig = await startRig(
      { oa: () => ({ kind: 'hang' }) },
      route({ candidates: single, firstTokenTimeoutMs: 20_000, deadlineMs: 8000 }),
      { clock },
    );
    const started = clock.monotonic();
    const error = await clock.drive(rejectionOf(rig.router.execute('chat', REQUEST)));
    const elapsed = clock.monotonic() - started;
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'deadline_exceeded');
    assert.equal(error.httpStatus, 504);
    assert.ok(elapsed >= 8000, `elapsed ${elapsed} ms`);
    assert.ok(elapsed < 8500, `elapsed ${elapsed} ms`);
  });

  it('keeps the fallback breaker closed at the task deadline', async () => {
    const clock = createTestClock();
    const breaker = {
      failureThreshold: 1,
      minimumRequests: 1,
      windowMs: 60_000,
      cooldownMs: 10_000,
      halfOpenMaxProbes: 1,
    };
    rig = await startRig(
      {
        oa: () => ({ kind: 'hang' }),
        an: () => ({ kind: 'stream', tokens: 3, firstChunkDelayMs: 600 }),
      },
      route({ breaker, firstTokenTimeoutMs: 1500, stallTimeoutMs: 1500, deadlineMs: 1900 }),
      { clock },
    );
    const error = await clock.drive(rejectionOf(rig.router.execute('chat', REQUEST)));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'deadline_exceeded');
    assert.deepEqual(
      error.attempts.map((attempt) => [attempt.provider, attempt.errorClass]),
      [
        ['oa', 'first_token_timeout'],
        ['an', 'deadline_exceeded'],
      ],
    );
    const states = rig.router
      .snapshot()
      .breakers.map((entry) => [entry.provider, entry.state.kind]);
    assert.deepEqual(states, [
      ['oa', 'open'],
      ['an', 'closed'],
    ]);
  });

  it('opens breaker on slow provider', async () => {
    const clock = createTestClock();
    const breaker = {
      failureThreshold: 2,
      minimumRequests: 2,
      windowMs: 60_000,
      cooldownMs: 10_000,
      halfOpenMaxProbes: 1,
    };
    const single = [{ provider: 'oa', model: 'm1', weight: 1 }];
    // 60 tokens 100 ms apart take 5.9 s, past the 2 s deadline. Each chunk comes well
    // within the stall timeout, so only the deadline ends the call.
    const slow = await startRig(
      { oa: () => ({ kind: 'stream', tokens: 60, tokenIntervalMs: 100 }) },
      route({ candidates: single, breaker, deadlineMs: 2000 }),
      { clock },
    );
    rig = slow;
    const codes: unknown[] = [];
    for (let task = 0; task < 3; task += 1) {
      const error = await clock.drive(rejectionOf(slow.router.execute('chat', REQUEST)));
      codes.push(isRouterError(error) ? error.code : error);
    }
    assert.deepEqual(codes, ['deadline_exceeded', 'deadline_exceeded', 'provider_unavailable']);
    const states = slow.router.snapshot().breakers.map((entry) => entry.state.kind);
    assert.deepEqual(states, ['open']);
    assert.equal(slow.servers.oa?.requests.length, 2);
  });

  it('sends exactly two attempts to an always-429 provider with one retry', async () => {
    const single = [{ provider: 'oa', model: 'm1', weight: 1 }];
    const retryBudget = { windowMs: 60_000, maxRetriesPerWindow: 1, maxAttemptsPerTask: 5 };
    rig = await startRig(
      { oa: () => ({ kind: 'status', status: 429 }) },
      route({ candidates: single, retryBudget }),
    );
    const exhausted: unknown[] = [];
    rig.router.on('retry_budget_exhausted', (event) => exhausted.push(event));
    const error = await rejectionOf(rig.router.execute('chat', REQUEST));
    assert.equal(rig.servers.oa?.requests.length, 2);
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'upstream_rate_limited');
    assert.equal(exhausted.length, 1);
  });

  it('calls the fallback at once on 429 with Retry-After 47', async () => {
    const retryBudget = { windowMs: 60_000, maxRetriesPerWindow: 1, maxAttemptsPerTask: 2 };
    const throttled = { kind: 'status', status: 429, headers: { 'retry-after': '47' } } as const;
    rig = await startRig({ oa: () => throttled }, route({ retryBudget }));
    const started = performance.now();
    const result = await rig.router.execute('chat', REQUEST);
    const elapsed = performance.now() - started;
    assert.equal(result.provider, 'an');
    assert.ok(elapsed < 1000, `elapsed ${elapsed} ms`);
    const next = await rig.router.execute('chat', REQUEST);
    assert.equal(next.attempts[0]?.errorClass, 'throttled');
    assert.equal(rig.servers.oa?.requests.length, 1);
  });

  it('stops calling a target once its breaker opens until a probe', async () => {
    const clock = createTestClock();
    const single = [{ provider: 'oa', model: 'm1', weight: 1 }];
    const breaker = {
      failureThreshold: 3,
      minimumRequests: 5,
      windowMs: 60_000,
      cooldownMs: 10_000,
      halfOpenMaxProbes: 1,
    };
    const retryBudget = { windowMs: 60_000, maxRetriesPerWindow: 0, maxAttemptsPerTask: 1 };
    rig = await startRig(
      { oa: () => ({ kind: 'status', status: 500 }) },
      route({ candidates: single, breaker, retryBudget }),
      { clock },
    );

    const transitions: string[] = [];
    rig.router.on('breaker_transition', (event: BreakerTransition) =>
      transitions.push(`${event.from}->${event.to.kind}`),
    );
    const codes: string[] = [];
    for (let task = 0; task < 8; task += 1) {
      const error = await rejectionOf(rig.router.execute('chat', REQUEST));
      codes.push(isRouterError(error) ? error.code : 'other');
    }

    assert.equal(rig.servers.oa?.requests.length, 5);
    assert.deepEqual(codes.slice(5), [
      'provider_unavailable',
      'provider_unavailable',
      'provider_unavailable',
    ]);

    await clock.drive(clock.sleep(9_000));
    await rejectionOf(rig.router.execute('chat', REQUEST));
    assert.equal(rig.servers.oa?.requests.length, 5);

    await clock.drive(clock.sleep(1_000));
    await rejectionOf(rig.router.execute('chat', REQUEST));
    await rejectionOf(rig.router.execute('chat', REQUEST));
    assert.equal(rig.servers.oa?.requests.length, 6);
    assert.deepEqual(transitions, ['closed->open', 'open->half_open', 'half_open->open']);
  });

  it('backs off exponentially with jitter on repeats', async () => {
    const { clock, recording, sleeps } = recordingSleeps();
    const single = [{ provider: 'oa', model: 'm1', weight: 1 }];
    const retryBudget = { windowMs: 60_000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 4 };
    rig = await startRig(
      { oa: () => ({ kind: 'status', status: 500 }) },
      route({ candidates: single, retryBudget, retryBackoffMs: 100 }),
      { clock: recording, random: () => 0.5 },
    );
    const error = await clock.drive(rejectionOf(rig.router.execute('chat', REQUEST)));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'upstream_error');
    assert.equal(rig.servers.oa?.requests.length, 4);
    assert.deepEqual(sleeps, [75, 150, 300]);
  });

  it('caps backoff waits at retryBackoffMaxMs', async () => {
    const { clock, recording, sleeps } = recordingSleeps();
    const single = [{ provider: 'oa', model: 'm1', weight: 1 }];
    const retryBudget = { windowMs: 60_000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 5 };
    rig = await startRig(
      { oa: () => ({ kind: 'status', status: 500 }) },
      route({ candidates: single, retryBudget, retryBackoffMs: 100, retryBackoffMaxMs: 250 }),
      { clock: recording, random: () => 0 },
    );
    await clock.drive(rejectionOf(rig.router.execute('chat', REQUEST)));
    assert.equal(rig.servers.oa?.requests.length, 5);
    assert.deepEqual(sleeps, [50, 100, 125, 125]);
  });

  it('frees a probe slot when the deadline ends a backoff', async () => {
    const clock = createTestClock();
    const single = [{ provider: 'oa', model: 'm1', weight: 1 }];
    const breaker = {
      failureThreshold: 1,
      minimumRequests: 1,
      windowMs: 60_000,
      cooldownMs: 1000,
      halfOpenMaxProbes: 1,
    };
    const replies = [
      { kind: 'status', status: 500 } as const,
      { kind: 'status', status: 400 } as const,
    ];
    rig = await startRig(
      { oa: (index) => replies[index] ?? { kind: 'stream', tokens: 2 } },
      route({
        candidates: single,
        breaker,
        failoverOn: [...route().failoverOn, 'status_400'],
        retryBackoffMs: 10_000,
        deadlineMs: 3000,
      }),
      { clock },
    );
    await rejectionOf(rig.router.execute('chat', REQUEST));
    await clock.drive(clock.sleep(1000));
    const error = await clock.drive(rejectionOf(rig.router.execute('chat', REQUEST)));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'deadline_exceeded');
    const result = await clock.drive(rig.router.execute('chat', REQUEST));
    assert.equal(result.provider, 'oa');
    assert.equal(rig.servers.oa?.requests.length, 3);
  });

  it('records an attempt the caller stopped reading', async () => {
    rig = await startRig({ oa: () => ({ kind: 'stream', tokens: 5 }) }, route());
    const starts: unknown[] = [];
    const ends: RouterEventMap['attempt_end'][0][] = [];
    rig.router.on('attempt_start', (event) => starts.push(event));
    rig.router.on('attempt_end', (event) => ends.push(event));
    for await (const event of rig.router.stream('chat', REQUEST)) {
      assert.equal(event.type, 'delta');
      break;
    }
    assert.equal(starts.length, 1);
    assert.equal(ends.length, 1);
    assert.equal(ends[0]?.outcome, 'failed');
    assert.equal(ends[0]?.errorClass, 'aborted');
  });

  it('reports a caller abort mid-stream as client_aborted', async () => {
    const breaker = {
      failureThreshold: 1,
      minimumRequests: 1,
      windowMs: 60_000,
      cooldownMs: 10_000,
      halfOpenMaxProbes: 1,
    };
    rig = await startRig(
      { oa: () => ({ kind: 'stream', tokens: 100, tokenIntervalMs: 20 }) },
      route({ breaker }),
    );

    const ends: RouterEventMap['attempt_end'][0][] = [];
    rig.router.on('attempt_end', (event) => ends.push(event));
    const controller = new AbortController();
    const events: RouterStreamEvent[] = [];
    for await (const event of rig.router.stream('chat', REQUEST, { signal: controller.signal })) {
      events.push(event);
      if (event.type === 'delta') controller.abort();
    }

    const last = events.at(-1);
    assert.ok(last?.type === 'error');
    assert.equal(isStreamInterruptedError(last.error), false);
    assert.equal(last.error.code, 'client_aborted');
    assert.equal(last.error.httpStatus, 499);
    assert.deepEqual(
      ends.map((end) => [end.provider, end.outcome, end.errorClass]),
      [['oa', 'failed', 'aborted']],
    );
    assert.equal(rig.router.snapshot().breakers[0]?.state.kind, 'closed');
    assert.equal(rig.servers.an?.requests.length, 0);
  });

  it('waits for a busy half-open probe without spinning', async () => {
    const clock = createTestClock();
    const single = [{ provider: 'oa', model: 'm1', weight: 1 }];
    const breaker = {
      failureThreshold: 1,
      minimumRequests: 1,
      windowMs: 60_000,
      cooldownMs: 1000,
      halfOpenMaxProbes: 1,
    };
    const retryBudget = { windowMs: 60_000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 1 };
    const slowProbe = { kind: 'stream', tokens: 2, firstChunkDelayMs: 500 } as const;
    rig = await startRig(
      { oa: (index) => (index === 0 ? { kind: 'status', status: 500 } : slowProbe) },
      route({ candidates: single, breaker, retryBudget, onExhausted: 'queue', deadlineMs: 5000 }),
      { clock },
    );
    const opened = await clock.drive(rejectionOf(rig.router.execute('chat', REQUEST)));
    assert.ok(isRouterError(opened));
    // The task used its only attempt, so it failed at once; the cooldown passes here.
    await clock.drive(clock.sleep(1000));
    assert.equal(rig.router.snapshot().breakers[0]?.state.kind, 'half_open');
    const skips: unknown[] = [];
    rig.router.on('attempt_skipped', (event) => skips.push(event));
    const probe = rig.router.execute('chat', REQUEST);
    const queued = rig.router.execute('chat', REQUEST);
    const [first, second] = await clock.drive(Promise.all([probe, queued]));
    assert.equal(first.provider, 'oa');
    assert.equal(second.provider, 'oa');
    assert.ok(skips.length >= 1, `${skips.length} skips`);
    assert.ok(skips.length <= 6, `${skips.length} skips`);
  });

  it('fails at once with no attempts left while queueing', async () => {
    const clock = createTestClock();
    const breaker = {
      failureThreshold: 1,
      minimumRequests: 1,
      windowMs: 60_000,
      cooldownMs: 5000,
      halfOpenMaxProbes: 1,
    };
    const retryBudget = { windowMs: 60_000, maxRetriesPerWindow: 10, maxAttemptsPerTask: 2 };
    const unavailable = () => ({ kind: 'status', status: 503 }) as const;
    rig = await startRig(
      { oa: unavailable, an: unavailable },
      route({ breaker, retryBudget, onExhausted: 'queue', deadlineMs: 20_000 }),
      { clock },
    );
    const started = clock.monotonic();
    const error = await clock.drive(rejectionOf(rig.router.execute('chat', REQUEST)));
    const elapsed = clock.monotonic() - started;
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'upstream_error');
    assert.equal(rig.servers.oa?.requests.length, 1);
    assert.equal(rig.servers.an?.requests.length, 1);
    assert.ok(elapsed < 1000, `elapsed ${elapsed} ms`);
  });

  it('fails over on 401 when status_401 is listed', async () => {
    const failoverOn = [...route().failoverOn, 'status_401' as const];
    rig = await startRig({ oa: () => ({ kind: 'status', status: 401 }) }, route({ failoverOn }));
    const result = await rig.router.execute('chat', REQUEST);
    assert.equal(result.provider, 'an');
  });

  it('maps an unlisted 401 to upstream_auth_failed 502', async () => {
    rig = await startRig({ oa: () => ({ kind: 'status', status: 401 }) }, route());
    const error = await rejectionOf(rig.router.execute('chat', REQUEST));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'upstream_auth_failed');
    assert.equal(error.httpStatus, 502);
    assert.equal(error.upstreamStatus, 401);
    assert.equal(rig.servers.an?.requests.length, 0);
  });

  it('skips a provider whose remaining requests reached 0', async () => {
    const headers = { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '30s' };
    rig = await startRig({ oa: () => ({ kind: 'stream', tokens: 2, headers }) }, route());
    const first = await rig.router.execute('chat', REQUEST);
    const second = await rig.router.execute('chat', REQUEST);
    assert.equal(first.provider, 'oa');
    assert.equal(second.provider, 'an');
    assert.deepEqual(second.attempts[0], {
      provider: 'oa',
      model: 'm1',
      outcome: 'skipped',
      errorClass: 'throttled',
      latencyMs: 0,
    });
  });

  it('skips a provider after a 429 with no requests left', async () => {
    const headers = { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '30s' };
    rig = await startRig({ oa: () => ({ kind: 'status', status: 429, headers }) }, route());
    const throttled: RouterEventMap['provider_throttled'][0][] = [];
    rig.router.on('provider_throttled', (notice) => throttled.push(notice));
    const first = await rig.router.execute('chat', REQUEST);
    const second = await rig.router.execute('chat', REQUEST);
    assert.equal(first.provider, 'an');
    assert.equal(first.attempts[0]?.errorClass, 'status_429');
    assert.equal(second.provider, 'an');
    assert.equal(second.attempts[0]?.errorClass, 'throttled');
    assert.equal(rig.servers.oa?.requests.length, 1);
    assert.deepEqual(
      throttled.map((notice) => [notice.provider, notice.source]),
      [['oa', 'remaining_requests']],
    );
  });

  it('skips an Anthropic provider after a 429 with no tokens left', async () => {
    const candidates = [
      { provider: 'an', model: 'm2', weight: 1 },
      { provider: 'oa', model: 'm1', weight: 0 },
    ];
    const reset = new Date(Date.now() + 30_000).toISOString();
    const headers = {
      'anthropic-ratelimit-tokens-remaining': '0',
      'anthropic-ratelimit-tokens-reset': reset,
    };
    rig = await startRig(
      { an: () => ({ kind: 'status', status: 429, headers }) },
      route({ candidates }),
    );
    await rig.router.execute('chat', REQUEST);
    const second = await rig.router.execute('chat', REQUEST);
    assert.equal(second.provider, 'oa');
    assert.equal(second.attempts[0]?.errorClass, 'throttled');
    assert.equal(rig.servers.an?.requests.length, 1);
  });

  it('never crosses the quality floor through a fallback route', async () => {
    const chat = route({
      candidates: [{ provider: 'oa', model: 'm1', weight: 1 }],
      fallbackRoute: 'cheap',
      qualityFloor: 3,
    });
    const cheap = route({
      candidates: [{ provider: 'low', model: 'tiny', weight: 1 }],
      qualityFloor: 1,
    });
    rig = await startRig(
      { oa: () => ({ kind: 'status', status: 503 }) },
      { version: 1, routes: { chat, cheap } },
    );
    const error = await rejectionOf(rig.router.execute('chat', REQUEST));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'upstream_error');
    assert.equal(rig.servers.low?.requests.length, 0);
  });

  it('picks the first candidate by weight', async () => {
    const candidates = [
      { provider: 'oa', model: 'm1', weight: 1 },
      { provider: 'an', model: 'm2', weight: 3 },
    ];
    rig = await startRig({}, route({ candidates }), { random: () => 0.5 });
    const result = await rig.router.execute('chat', REQUEST);
    assert.equal(result.provider, 'an');
  });

  it('keeps fallback candidates out of the pick', async () => {
    const chat = route({
      candidates: [{ provider: 'oa', model: 'm1', weight: 1 }],
      fallbackRoute: 'backup',
    });
    const backup = route({ candidates: [{ provider: 'an', model: 'm2', weight: 3 }] });
    // With `an` in the draw at weight 3 of 4, a point at 0.5 would pick it.
    rig = await startRig({}, { version: 1, routes: { chat, backup } }, { random: () => 0.5 });
    const result = await rig.router.execute('chat', REQUEST);
    assert.equal(result.provider, 'oa');
    assert.equal(rig.servers.an?.requests.length, 0);
  });

  it('names the fallback route of a fallback attempt', async () => {
    const chat = route({
      candidates: [{ provider: 'oa', model: 'm1', weight: 1 }],
      fallbackRoute: 'backup',
    });
    const backup = route({ candidates: [{ provider: 'an', model: 'm2', weight: 1 }] });
    rig = await startRig(
      { oa: () => ({ kind: 'status', status: 503 }) },
      { version: 1, routes: { chat, backup } },
    );
    const ends: RouterEventMap['attempt_end'][0][] = [];
    rig.router.on('attempt_end', (event) => ends.push(event));
    const result = await rig.router.execute('chat', REQUEST);
    assert.equal(result.provider, 'an');
    assert.deepEqual(
      ends.map((end) => [end.route, end.candidateRoute, end.provider, end.outcome]),
      [
        ['chat', 'chat', 'oa', 'failed'],
        ['chat', 'backup', 'an', 'success'],
      ],
    );
  });

  it('rejects an unknown route', async () => {
    rig = await startRig({}, route());
    const error = await rejectionOf(rig.router.execute('nope', REQUEST));
    assert.ok(isRouterError(error));
    assert.equal(error.code, 'unknown_route');
  });
});
