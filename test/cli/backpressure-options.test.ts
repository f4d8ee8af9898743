import assert from 'node:assert/strict';

import { InvalidArgumentError } from 'commander';

import {
  backpressureLimits,
  parseMaxQueueAgeMs,
  parseMaxQueueDepth,
  parseShedWatermarks,
} from '../../src/cli/backpressure-options.js';

const DEPTH_RANGE =
  'expected a whole number of queued tasks of 1 or more, such as 10000 (the default).';
const AGE_RANGE =
  'expected an integer number of ms from 1 to 2147483647, such as 60000 (the default).';
const WATERMARKS =
  'expected two fractions batch,standard, each above 0 and at most 1, such as 0.5,0.8 (the default).';

/** Asserts that `parse(value)` throws commander's InvalidArgumentError with `message`. */
function assertRejects(parse: (value: string) => unknown, value: string, message: string): void {
  assert.throws(
    () => parse(value),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.equal(error.message, message);
      return true;
    },
  );
}

describe('parseMaxQueueDepth', () => {
  it('accepts a whole number', () => {
    assert.equal(parseMaxQueueDepth('250'), 250);
  });

  for (const value of ['0', '-1', '1.5', 'abc', '', '1e3', '9007199254740993']) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      assertRejects(parseMaxQueueDepth, value, DEPTH_RANGE);
    });
  }
});

describe('parseMaxQueueAgeMs', () => {
  it('accepts whole milliseconds', () => {
    assert.equal(parseMaxQueueAgeMs('5000'), 5000);
  });

  for (const value of ['0', '-5', '2.5', 'abc', '', '2147483648']) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      assertRejects(parseMaxQueueAgeMs, value, AGE_RANGE);
    });
  }
});

describe('parseShedWatermarks', () => {
  it('accepts two fractions', () => {
    assert.deepEqual(parseShedWatermarks('0.25,0.75'), { batch: 0.25, standard: 0.75 });
  });

  it('accepts spaces and equal fractions', () => {
    assert.deepEqual(parseShedWatermarks('1, 1'), { batch: 1, standard: 1 });
  });

  for (const value of [
    '0.5',
    '0.5,0.8,0.9',
    '0,0.8',
    '0.5,1.2',
    '0.5,',
    ',0.8',
    'a,b',
    '-0.1,0.5',
  ]) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      assertRejects(parseShedWatermarks, value, WATERMARKS);
    });
  }

  it('rejects batch above standard', () => {
    assertRejects(
      parseShedWatermarks,
      '0.9,0.5',
      'the batch fraction 0.9 is above the standard fraction 0.5, but batch requests are shed ' +
        'first; put the lower fraction first, such as 0.5,0.9.',
    );
  });
});

describe('backpressureLimits', () => {
  it('fills in the defaults', () => {
    assert.deepEqual(backpressureLimits({}), {
      maxQueueDepth: 10_000,
      maxOldestAgeMs: 60_000,
      watermarks: { batch: 0.5, standard: 0.8 },
    });
  });

  it('keeps each given option', () => {
    const limits = backpressureLimits({
      maxQueueDepth: 40,
      maxQueueAgeMs: 2000,
      shedWatermarks: { batch: 0.2, standard: 0.4 },
    });
    assert.deepEqual(limits, {
      maxQueueDepth: 40,
      maxOldestAgeMs: 2000,
      watermarks: { batch: 0.2, standard: 0.4 },
    });
  });
});
