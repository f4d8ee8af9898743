import assert from 'node:assert/strict';

import { type Clock, isScaledClock, scaledClock, systemClock } from '../../src/platform/clock.js';

/** Returns a clock whose `now()` and `monotonic()` read `time.ms`, which the test sets. */
function settableClock(time: { ms: number }): Clock {
  return { ...systemClock, now: () => time.ms, monotonic: () => time.ms };
}

describe('scaledClock', () => {
  it('equals the base time at its origin', () => {
    const time = { ms: 5_000 };
    const clock = scaledClock(10, settableClock(time), 2_000);
    assert.equal(clock.now(), 2_000 + 3_000 * 10);
    time.ms = 2_000;
    assert.equal(clock.now(), 2_000);
  });

  it('starts at the base time by default', () => {
    const time = { ms: 5_000 };
    const clock = scaledClock(10, settableClock(time));
    assert.equal(clock.originMs, 5_000);
    assert.equal(clock.now(), 5_000);
    time.ms = 5_100;
    assert.equal(clock.now(), 6_000);
  });

  it('agrees with a clock of the same origin', () => {
    const time = { ms: 5_000 };
    const first = scaledClock(8, settableClock(time));
    time.ms = 9_000;
    const second = scaledClock(first.scale, settableClock(time), first.originMs);
    assert.equal(second.now(), first.now());
    time.ms = 12_000;
    assert.equal(second.now(), first.now());
    assert.equal(second.now(), 5_000 + 7_000 * 8);
  });

  it('rejects an origin of NaN', () => {
    assert.throws(() => scaledClock(2, systemClock, Number.NaN), {
      name: 'RangeError',
      message: 'clock origin must be a finite time in ms, got NaN',
    });
  });

  it('rejects a scale of 0', () => {
    assert.throws(() => scaledClock(0), /time scale must be a positive number, got 0/);
  });
});

describe('isScaledClock', () => {
  it('is true for a scaled clock', () => {
    assert.equal(isScaledClock(scaledClock(4)), true);
  });

  it('is false for the system clock', () => {
    assert.equal(isScaledClock(systemClock), false);
  });
});
