import assert from 'node:assert/strict';
import {
  evaluateHealth,
  resolveHealthLimits,
  stoppedEarlyReason,
} from '../../../src/harness/load/health.js';
import type { RequestCounts } from '../../../src/harness/load/result.js';

const counts: RequestCounts = {
  scheduled: 90,
  sent: 90,
  succeeded: 90,
  failed: 0,
  dropped: 0,
  late: 1,
  aborted: 0,
};

function stalls(behindMs: number, longestStallMs: number, count = 1) {
  return { lagLimitMs: 50, behindMs, longestStallMs, stalls: count };
}

describe('evaluateHealth', () => {
  it('rejects sends failed in the generator', () => {
    const health = evaluateHealth({
      counts,
      lagP99Ms: 1,
      limits: {},
      abortedEarly: false,
      loadGeneratorErrors: { EMFILE: 3, EADDRNOTAVAIL: 2 },
    });
    assert.equal(health.valid, false);
    assert.deepEqual(health.reasons, [
      '5 sends failed in the load generator (EMFILE 3, EADDRNOTAVAIL 2): its process ran out ' +
        'of file descriptors or local ports, so the target never received them; lower ' +
        '--max-in-flight, which sizes the connection pool, or raise the open-file limit ' +
        '(ulimit -n)',
    ]);
  });

  it('ignores generator error codes counted zero', () => {
    const health = evaluateHealth({
      counts,
      lagP99Ms: 1,
      limits: {},
      abortedEarly: false,
      loadGeneratorErrors: { EMFILE: 0 },
    });
    assert.deepEqual(health, { valid: true, reasons: [] });
  });

  it('accepts a short run with one caught-up pause', () => {
    // 90 sends in 3 s, one of them 56 ms late: p99 is over 50 ms, the stall 6 ms.
    const health = evaluateHealth({
      counts,
      lagP99Ms: 56,
      limits: {},
      abortedEarly: false,
      stalls: stalls(6, 6),
      scheduleMs: 3000,
    });
    assert.deepEqual(health, { valid: true, reasons: [] });
  });

  it('rejects a stall longer than the limit', () => {
    const health = evaluateHealth({
      counts,
      lagP99Ms: 900,
      limits: {},
      abortedEarly: false,
      stalls: stalls(750, 750),
      scheduleMs: 300_000,
    });
    assert.equal(health.valid, false);
    assert.deepEqual(health.reasons, [
      'scheduler stalled: sends waited over 50 ms past their scheduled time for 750 ms in a row, over the limit of 500 ms',
    ]);
  });

  it('rejects many short stalls adding up', () => {
    const health = evaluateHealth({
      counts,
      lagP99Ms: 80,
      limits: {},
      abortedEarly: false,
      stalls: stalls(3500, 40, 120),
      scheduleMs: 300_000,
    });
    assert.equal(health.valid, false);
    assert.deepEqual(health.reasons, [
      'scheduler behind schedule by over 50 ms for 3500 ms in 120 stalls, over the limit of 3000 ms',
    ]);
  });

  it('uses the stall limit as the floor for short runs', () => {
    const health = evaluateHealth({
      counts,
      lagP99Ms: 80,
      limits: {},
      abortedEarly: false,
      stalls: stalls(400, 100, 4),
      scheduleMs: 3000,
    });
    assert.equal(health.valid, true);
  });

  it('judges lag p99 when no stalls are measured', () => {
    const health = evaluateHealth({
      counts,
      lagP99Ms: 56,
      limits: { maxLagP99Ms: 50 },
      abortedEarly: false,
    });
    assert.deepEqual(health.reasons, ['scheduler lag p99 56.0 ms exceeds the limit of 50 ms']);
  });

  it('rejects dropped sends over the limit', () => {
    const health = evaluateHealth({
      counts: { ...counts, sent: 88, dropped: 2 },
      lagP99Ms: 0,
      limits: {},
      abortedEarly: false,
      stalls: stalls(0, 0, 0),
      scheduleMs: 3000,
    });
    assert.deepEqual(health.reasons, [
      '2 of 90 sends dropped at the in-flight cap (2.22%), over the limit of 1.00%',
    ]);
  });
});

describe('stoppedEarlyReason', () => {
  it('names a stop before the schedule ended', () => {
    assert.equal(
      stoppedEarlyReason('interrupted by SIGINT'),
      'run stopped by its abort signal before the schedule ended: interrupted by SIGINT',
    );
  });

  it('names a stop during the drain', () => {
    assert.equal(
      stoppedEarlyReason('interrupted by SIGINT', true),
      'run stopped by its abort signal during the drain, after the schedule ended: interrupted by SIGINT',
    );
  });
});

describe('resolveHealthLimits', () => {
  it('applies the defaults', () => {
    assert.deepEqual(resolveHealthLimits(), {
      maxLagMs: 50,
      maxStallMs: 500,
      maxBehindFraction: 0.01,
      maxDroppedFraction: 0.01,
    });
  });

  it('reads the deprecated p99 name', () => {
    assert.equal(resolveHealthLimits({ maxLagP99Ms: 80 }).maxLagMs, 80);
  });

  it('names a negative limit', () => {
    assert.throws(() => resolveHealthLimits({ maxStallMs: -1 }), {
      name: 'RangeError',
      message: 'health.maxStallMs must be a number >= 0, got -1',
    });
  });
});
