import FakeTimers from '@sinonjs/fake-timers';
import type { Clock } from '../../../src/platform/clock.js';

/** A Clock whose `now()` comes from a standalone fake-timers clock that leaves globals untouched. */
export interface ManualClock extends Clock {
  tick(ms: number): void;
}

/** Creates a manual clock. Admission reads only `now()`, so the timer methods throw. */
export function createManualClock(start = Date.UTC(2025, 0, 15)): ManualClock {
  const fake = FakeTimers.createClock(start);
  const unsupported = (): never => {
    throw new Error('the manual clock supports only now(), monotonic() and tick()');
  };
  return {
    now: () => fake.now,
    monotonic: () => fake.now,
    sleep: unsupported,
    setTimeout: unsupported,
    clearTimeout: unsupported,
    tick: (ms) => {
      fake.tick(ms);
    },
  };
}
