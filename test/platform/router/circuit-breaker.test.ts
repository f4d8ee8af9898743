import assert from 'node:assert/strict';
import { ProviderError } from '../../../src/platform/providers/errors.js';
import { CircuitBreaker, type BreakerTransition } from '../../../src/platform/router/index.js';
import { createTestClock } from '../providers/test-clock.js';

const POLICY = {
  failureThreshold: 3,
  minimumRequests: 5,
  windowMs: 10_000,
  cooldownMs: 1000,
  halfOpenMaxProbes: 2,
};

function failure(errorClass: ProviderError['errorClass'], retryAfterMs?: number): ProviderError {
  return new ProviderError(errorClass, 'scripted', { provider: 'p', model: 'm', retryAfterMs });
}

function setup(policy = POLICY): {
  breaker: CircuitBreaker;
  transitions: BreakerTransition[];
  clock: ReturnType<typeof createTestClock>;
} {
  const clock = createTestClock();
  const transitions: BreakerTransition[] = [];
  const breaker = new CircuitBreaker({
    provider: 'p',
    model: 'm',
    policy,
    clock,
    onTransition: (t) => transitions.push(t),
  });
  return { breaker, transitions, clock };
}

describe('CircuitBreaker', () => {
  it('opens at 3 failures among at least 5 calls', () => {
    const { breaker } = setup();
    breaker.onSuccess();
    breaker.onSuccess();
    for (let index = 0; index < 2; index += 1) {
      breaker.onFailure(failure('status_5xx'));
    }
    assert.equal(breaker.state.kind, 'closed');
    breaker.onFailure(failure('status_5xx'));
    assert.equal(breaker.state.kind, 'open');
  });

  it('stays closed below the minimum request count', () => {
    const { breaker } = setup();
    for (let index = 0; index < 4; index += 1) {
      breaker.onFailure(failure('status_5xx'));
    }
    assert.equal(breaker.state.kind, 'closed');
  });

  it('ignores caller errors such as 401', () => {
    const { breaker } = setup({ ...POLICY, failureThreshold: 1, minimumRequests: 1 });
    breaker.onFailure(failure('status_401'));
    breaker.onFailure(failure('aborted'));
    assert.equal(breaker.state.kind, 'closed');
  });

  it('stays open until a longer Retry-After', async () => {
    const { breaker, clock } = setup({ ...POLICY, failureThreshold: 1, minimumRequests: 1 });
    breaker.onFailure(failure('status_429', 30_000));
    assert.deepEqual(breaker.state, {
      kind: 'open',
      openedAt: 0,
      reopensAt: 30_000,
      errorClass: 'status_429',
    });
    await clock.drive(clock.sleep(29_999), { stepMs: 29_999 });
    assert.equal(breaker.tryAcquire(), false);
    await clock.drive(clock.sleep(1), { stepMs: 1 });
    assert.equal(breaker.state.kind, 'half_open');
  });

  it('turns half-open without calls', async () => {
    const { breaker, clock, transitions } = setup({
      ...POLICY,
      failureThreshold: 1,
      minimumRequests: 1,
    });
    breaker.onFailure(failure('status_429', 5_000));
    await clock.drive(clock.sleep(4_999), { stepMs: 4_999 });
    assert.deepEqual(
      transitions.map((t) => t.to.kind),
      ['open'],
    );
    // No call reads the state: the wait's end alone emits the transition.
    await clock.drive(clock.sleep(1), { stepMs: 1 });
    assert.deepEqual(
      transitions.map((t) => `${t.from}->${t.to.kind}`),
      ['closed->open', 'open->half_open'],
    );
  });

  it('turns half-open after an early timer', async () => {
    const clock = createTestClock();
    let first = true;
    // The first timer fires 100 ms before it is due, as a timer may fire a little early.
    const early = {
      ...clock,
      setTimeout: (callback: () => void, ms: number) => {
        const delay = first ? ms - 100 : ms;
        first = false;
        return clock.setTimeout(callback, delay);
      },
    };
    const transitions: BreakerTransition[] = [];
    const breaker = new CircuitBreaker({
      provider: 'p',
      model: 'm',
      policy: { ...POLICY, failureThreshold: 1, minimumRequests: 1 },
      clock: early,
      onTransition: (t) => transitions.push(t),
    });
    breaker.onFailure(failure('status_5xx'));
    await clock.drive(clock.sleep(950), { stepMs: 50 });
    assert.deepEqual(
      transitions.map((t) => t.to.kind),
      ['open'],
    );
    await clock.drive(clock.sleep(50), { stepMs: 50 });
    assert.deepEqual(
      transitions.map((t) => t.to.kind),
      ['open', 'half_open'],
    );
  });

  it('turns half-open after a Retry-After past the timer maximum', async () => {
    const { breaker, clock, transitions } = setup({
      ...POLICY,
      failureThreshold: 1,
      minimumRequests: 1,
    });
    const dayMs = 86_400_000;
    breaker.onFailure(failure('status_429', 40 * dayMs));
    // One sleep per day, since a single sleep is capped at the timer maximum too.
    for (let day = 1; day < 40; day += 1) {
      await clock.drive(clock.sleep(dayMs), { stepMs: dayMs });
    }
    await clock.drive(clock.sleep(dayMs - 1), { stepMs: dayMs - 1 });
    assert.deepEqual(
      transitions.map((t) => t.to.kind),
      ['open'],
    );
    await clock.drive(clock.sleep(1), { stepMs: 1 });
    assert.deepEqual(
      transitions.map((t) => t.to.kind),
      ['open', 'half_open'],
    );
  });

  it('limits half-open probes and closes on a probe success', async () => {
    const { breaker, clock, transitions } = setup({
      ...POLICY,
      failureThreshold: 1,
      minimumRequests: 1,
    });
    breaker.onFailure(failure('status_5xx'));
    await clock.drive(clock.sleep(1000), { stepMs: 100 });
    assert.equal(breaker.tryAcquire(), true);
    assert.equal(breaker.tryAcquire(), true);
    assert.equal(breaker.tryAcquire(), false);
    breaker.onSuccess();
    assert.equal(breaker.state.kind, 'closed');
    assert.deepEqual(
      transitions.map((t) => `${t.from}->${t.to.kind}`),
      ['closed->open', 'open->half_open', 'half_open->closed'],
    );
  });
});
