import assert from 'node:assert/strict';

import { positiveInteger } from '../../bench/args.js';

describe('bench positiveInteger', () => {
  it('parses a positive integer', () => {
    assert.equal(positiveInteger('rounds', '16', 15), 16);
  });

  it('returns the fallback when missing', () => {
    assert.equal(positiveInteger('rounds', undefined, 15), 15);
  });

  it('rejects zero, fractions and words', () => {
    for (const text of ['0', '-3', '1.5', 'abc', '', ' ', '1e400']) {
      assert.throws(() => positiveInteger('rounds', text, 15), {
        name: 'RangeError',
        message: `rounds must be a positive integer, got ${JSON.stringify(text)}; pass a value such as 15`,
      });
    }
  });
});
