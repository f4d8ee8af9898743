import assert from 'node:assert/strict';

import { median, percentile } from '../../bench/stats.js';

describe('bench median', () => {
  it('takes the middle of an odd count', () => {
    assert.equal(median([5, 1, 3]), 3);
  });

  it('averages the two middles of an even count', () => {
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  it('sorts numbers by value', () => {
    assert.equal(median([10, 9, 100]), 10);
  });

  it('returns NaN for no values', () => {
    assert.ok(Number.isNaN(median([])));
  });
});

describe('bench percentile', () => {
  const hundred = Array.from({ length: 100 }, (_, index) => index + 1);

  it('takes the nearest rank', () => {
    assert.equal(percentile(hundred, 0.5), 50);
    assert.equal(percentile(hundred, 0.99), 99);
    assert.equal(percentile(hundred, 1), 100);
  });

  it('rounds a fractional rank up', () => {
    assert.equal(percentile([1, 2, 3], 0.5), 2);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99), 10);
  });

  it('returns the only value of one', () => {
    assert.equal(percentile([7], 0.01), 7);
  });

  it('returns NaN for no values', () => {
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  it('rejects a percentile outside (0, 1]', () => {
    assert.throws(() => percentile(hundred, 0), {
      message: 'percentile must be in (0, 1], got 0; pass 0.99 for p99',
    });
    assert.throws(() => percentile(hundred, 99), RangeError);
  });
});
