import assert from 'node:assert/strict';
import { MAX_TIMER_MS } from '../../../src/faults/limits.js';
import type { Clock } from '../../../src/platform/clock.js';
import { CallWatchdog } from '../../../src/platform/providers/call-watchdog.js';
import { createTestClock } from './test-clock.js';

describe('CallWatchdog', () => {
  it('caps each timer at the timer maximum', () => {
    const clock = createTestClock();
    const delays: number[] = [];
    const recording: Clock = {
      ...clock,
      setTimeout: (callback, ms) => {
        delays.push(ms);
        return clock.setTimeout(callback, ms);
      },
    };
    const watchdog = new CallWatchdog(recording, {
      deadlineMs: 4_000_000_000,
      firstTokenTimeoutMs: 3_000_000_000,
      stallTimeoutMs: 3_000_000_000,
    });
    watchdog.bytesArrived();
    watchdog.dispose();
    assert.deepEqual(delays, [MAX_TIMER_MS, MAX_TIMER_MS, MAX_TIMER_MS]);
  });

  it('keeps a call with long limits running', async () => {
    const clock = createTestClock();
    const watchdog = new CallWatchdog(clock, {
      deadlineMs: 4_000_000_000,
      firstTokenTimeoutMs: 3_000_000_000,
      stallTimeoutMs: 3_000_000_000,
    });
    watchdog.bytesArrived();
    await clock.drive(clock.sleep(60_000), { stepMs: 1000 });
    assert.equal(watchdog.reason, undefined);
    watchdog.dispose();
  });
});
