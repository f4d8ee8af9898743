import assert from 'node:assert/strict';
import { ProviderError } from '../../../src/platform/providers/errors.js';
import {
  type BreakerPermit,
  type BreakerTransition,
  CircuitBreaker,
  transitionReason,
} from '../../../src/platform/router/index.js';
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

/** Reserves a call, failing the test when the breaker rejects it. */
function acquire(breaker: CircuitBreaker): BreakerPermit {
  const permit = breaker.tryAcquire();
  assert.ok(permit !== undefined, `no permit in state ${breaker.state.kind}`);
  return permit;
}

/** Reserves a call and records its failure. */
function fail(breaker: CircuitBreaker, error: ProviderError): void {
  breaker.onFailure(error, acquire(breaker));
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
    breaker.onSuccess(acquire(breaker));
    breaker.onSuccess(acquire(breaker));
    for (let index = 0; index < 2; index += 1) {
      fail(breaker, failure('status_5xx'));
    }
    assert.equal(breaker.state.kind, 'closed');
    fail(breaker, failure('status_5xx'));
    assert.equal(breaker.state.kind, 'open');
  });

  it('stays closed below the minimum request count', () => {
    const { breaker } = setup();
    for (let index = 0; index < 4; index += 1) {
      fail(breaker, failure('status_5xx'));
    }
    assert.equal(breaker.state.kind, 'closed');
  });

  // The policy check on failureThreshold above minimumRequests relies on this.
  it('opens on failures alone above minimumRequests', () => {
    const { breaker } = setup({ ...POLICY, failureThreshold: 7 });
    for (let index = 0; index < 6; index += 1) {
      fail(breaker, failure('status_5xx'));
    }
    assert.equal(breaker.state.kind, 'closed');
    fail(breaker, failure('status_5xx'));
    assert.equal(breaker.state.kind, 'open');
  });

  it('ignores caller errors such as 401', () => {
    const { breaker } = setup({ ...POLICY, failureThreshold: 1, minimumRequests: 1 });
    fail(breaker, failure('status_401'));
    fail(breaker, failure('aborted'));
    assert.equal(breaker.state.kind, 'closed');
  });

  it('stays open until a longer Retry-After', async () => {
    const { breaker, clock } = setup({ ...POLICY, failureThreshold: 1, minimumRequests: 1 });
    fail(breaker, failure('status_429', 30_000));
    assert.deepEqual(breaker.state, {
      kind: 'open',
      openedAt: 0,
      reopensAt: 30_000,
      errorClass: 'status_429',
    });
    await clock.drive(clock.sleep(29_999), { stepMs: 29_999 });
    assert.equal(breaker.tryAcquire(), undefined);
    await clock.drive(clock.sleep(1), { stepMs: 1 });
    assert.equal(breaker.state.kind, 'half_open');
  });

  it('turns half-open without calls', async () => {
    const { breaker, clock, transitions } = setup({
      ...POLICY,
      failureThreshold: 1,
      minimumRequests: 1,
    });
    fail(breaker, failure('status_429', 5_000));
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
    fail(breaker, failure('status_5xx'));
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
    fail(breaker, failure('status_429', 40 * dayMs));
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
    fail(breaker, failure('status_5xx'));
    await clock.drive(clock.sleep(1000), { stepMs: 100 });
    const probe = acquire(breaker);
    acquire(breaker);
    assert.equal(breaker.tryAcquire(), undefined);
    breaker.onSuccess(probe);
    assert.equal(breaker.state.kind, 'closed');
    assert.deepEqual(
      transitions.map((t) => `${t.from}->${t.to.kind}`),
      ['closed->open', 'open->half_open', 'half_open->closed'],
    );
  });

  describe('with calls reserved before the open', () => {
    const TRIP_AT_ONCE = {
      ...POLICY,
      failureThreshold: 1,
      minimumRequests: 1,
      halfOpenMaxProbes: 1,
    };

    /** Reserves a call while closed, then opens the circuit and waits out the cooldown. */
    async function halfOpenWithStaleCall(): Promise<{
      breaker: CircuitBreaker;
      stale: BreakerPermit;
      transitions: BreakerTransition[];
    }> {
      const { breaker, clock, transitions } = setup(TRIP_AT_ONCE);
      const stale = acquire(breaker);
      fail(breaker, failure('status_5xx'));
      await clock.drive(clock.sleep(1000), { stepMs: 100 });
      assert.equal(breaker.state.kind, 'half_open');
      return { breaker, stale, transitions };
    }

    it('ignores a stale success', async () => {
      const { breaker, stale } = await halfOpenWithStaleCall();
      breaker.onSuccess(stale);
      assert.deepEqual(breaker.state, { kind: 'half_open', probesInFlight: 0 });
    });

    it('keeps the probe slot on a stale release', async () => {
      const { breaker, stale } = await halfOpenWithStaleCall();
      acquire(breaker);
      breaker.release(stale);
      assert.deepEqual(breaker.state, { kind: 'half_open', probesInFlight: 1 });
      assert.equal(breaker.tryAcquire(), undefined);
    });

    it('keeps the probe slot on a stale abort', async () => {
      const { breaker, stale } = await halfOpenWithStaleCall();
      acquire(breaker);
      breaker.onFailure(failure('aborted'), stale);
      assert.deepEqual(breaker.state, { kind: 'half_open', probesInFlight: 1 });
      assert.equal(breaker.tryAcquire(), undefined);
    });

    it('ignores a stale failure while the probe runs', async () => {
      const { breaker, stale, transitions } = await halfOpenWithStaleCall();
      const probe = acquire(breaker);
      breaker.onFailure(failure('status_5xx'), stale);
      assert.deepEqual(breaker.state, { kind: 'half_open', probesInFlight: 1 });
      breaker.onSuccess(probe);
      assert.equal(breaker.state.kind, 'closed');
      assert.deepEqual(
        transitions.map((t) => `${t.from}->${t.to.kind}`),
        ['closed->open', 'open->half_open', 'half_open->closed'],
      );
    });

    it('ignores a probe of an earlier half-open period', async () => {
      const { breaker, clock } = setup({ ...TRIP_AT_ONCE, halfOpenMaxProbes: 2 });
      fail(breaker, failure('status_5xx'));
      await clock.drive(clock.sleep(1000), { stepMs: 100 });
      const failing = acquire(breaker);
      const late = acquire(breaker);
      breaker.onFailure(failure('status_5xx'), failing);
      await clock.drive(clock.sleep(1000), { stepMs: 100 });
      breaker.onSuccess(late);
      assert.deepEqual(breaker.state, { kind: 'half_open', probesInFlight: 0 });
    });

    it('ignores a stale failure once closed again', async () => {
      const { breaker, stale } = await halfOpenWithStaleCall();
      breaker.onSuccess(acquire(breaker));
      breaker.onFailure(failure('status_5xx'), stale);
      assert.equal(breaker.state.kind, 'closed');
    });
  });

  it('gives a reason for each transition', async () => {
    const { breaker, clock, transitions } = setup({
      ...POLICY,
      failureThreshold: 1,
      minimumRequests: 1,
      halfOpenMaxProbes: 1,
    });
    fail(breaker, failure('status_429', 5_000));
    await clock.drive(clock.sleep(5_000), { stepMs: 1_000 });
    fail(breaker, failure('status_5xx'));
    await clock.drive(clock.sleep(1_000), { stepMs: 100 });
    breaker.onSuccess(acquire(breaker));
    assert.deepEqual(transitions.map(transitionReason), [
      'failure threshold reached, last error status_429; half-open in 5000 ms',
      'open wait ended',
      'half-open probe failed with status_5xx; half-open in 1000 ms',
      'open wait ended',
      'half-open probe succeeded',
    ]);
  });
});
