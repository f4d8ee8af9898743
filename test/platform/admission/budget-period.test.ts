import assert from 'node:assert/strict';
import {
  parsePeriodKey,
  periodAt,
  previousPeriod,
} from '../../../src/platform/admission/budget-period.js';

describe('periodAt', () => {
  it('starts a day at 00:00 UTC', () => {
    const window = periodAt('day', Date.UTC(2026, 11, 6, 0, 0, 0, 0));
    assert.deepEqual(window, {
      key: 'day:2026-12-06',
      startMs: Date.UTC(2026, 11, 6),
      endMs: Date.UTC(2026, 11, 7),
    });
  });

  it('keeps the last ms in the same day', () => {
    assert.equal(periodAt('day', Date.UTC(2026, 11, 7) - 1).key, 'day:2026-12-06');
  });

  it('ends December at the next year', () => {
    const window = periodAt('month', Date.UTC(2026, 11, 31, 23, 59, 59, 999));
    assert.deepEqual(window, {
      key: 'month:2026-12',
      startMs: Date.UTC(2026, 11, 1),
      endMs: Date.UTC(2027, 0, 1),
    });
  });

  it('ends a leap February on the 29th', () => {
    assert.equal(periodAt('month', Date.UTC(2028, 1, 10)).endMs, Date.UTC(2028, 2, 1));
    assert.equal(periodAt('day', Date.UTC(2028, 1, 29, 12)).key, 'day:2028-02-29');
  });

  it('ends a common February on the 28th', () => {
    assert.equal(
      periodAt('month', Date.UTC(2027, 1, 28, 23, 59, 59, 999)).endMs,
      Date.UTC(2027, 2, 1),
    );
    assert.equal(periodAt('day', Date.UTC(2027, 1, 28, 23, 59, 59, 999)).key, 'day:2027-02-28');
    assert.equal(periodAt('day', Date.UTC(2027, 2, 1)).key, 'day:2027-03-01');
  });

  it('ends 30-day and 31-day months', () => {
    assert.equal(periodAt('month', Date.UTC(2027, 3, 30, 12)).endMs, Date.UTC(2027, 4, 1));
    assert.equal(periodAt('month', Date.UTC(2027, 4, 31, 12)).endMs, Date.UTC(2027, 5, 1));
    assert.equal(periodAt('month', Date.UTC(2027, 4, 1)).key, 'month:2027-05');
  });

  it('gives total no bounds', () => {
    assert.deepEqual(periodAt('total', 0), {
      key: 'total',
      startMs: -Infinity,
      endMs: Infinity,
    });
  });
});

describe('previousPeriod', () => {
  it('steps back across a year', () => {
    assert.equal(previousPeriod(periodAt('day', Date.UTC(2027, 0, 1))).key, 'day:2026-12-31');
    assert.equal(previousPeriod(periodAt('month', Date.UTC(2027, 0, 1))).key, 'month:2026-12');
  });

  it('steps back across February', () => {
    assert.equal(previousPeriod(periodAt('day', Date.UTC(2027, 2, 1))).key, 'day:2027-02-28');
    assert.equal(previousPeriod(periodAt('day', Date.UTC(2028, 2, 1))).key, 'day:2028-02-29');
    assert.equal(previousPeriod(periodAt('month', Date.UTC(2027, 2, 31))).key, 'month:2027-02');
  });

  it('returns total itself', () => {
    assert.equal(previousPeriod(periodAt('total', 0)).key, 'total');
  });
});

describe('parsePeriodKey', () => {
  it('parses the keys periodAt builds', () => {
    for (const key of ['total', 'day:2026-12-06', 'month:2026-02', 'day:2028-02-29']) {
      assert.equal(parsePeriodKey(key).key, key);
    }
    assert.equal(parsePeriodKey('day:2026-12-06').endMs, Date.UTC(2026, 11, 7));
  });

  it('rejects a day that does not exist', () => {
    assert.throws(
      () => parsePeriodKey('day:2026-02-30'),
      /invalid budget period key "day:2026-02-30"; expected total, day:YYYY-MM-DD or month:YYYY-MM/,
    );
  });

  it('rejects a month with a day', () => {
    assert.throws(() => parsePeriodKey('month:2026-02-01'), RangeError);
  });
});
