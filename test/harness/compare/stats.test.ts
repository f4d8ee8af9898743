import assert from 'node:assert/strict';

import { figureStats, noiseMark, percentChange } from '../../../src/harness/compare/stats.js';

describe('figureStats', () => {
  it('takes the middle of an odd count', () => {
    const stats = figureStats([30, 10, 20]);
    assert.equal(stats.median, 20);
    assert.equal(stats.min, 10);
    assert.equal(stats.max, 30);
  });

  it('averages the middle two of an even count', () => {
    assert.equal(figureStats([40, 10, 30, 20]).median, 25);
  });

  it('skips runs without the figure', () => {
    const stats = figureStats([null, 8, 4]);
    assert.deepEqual(stats.values, [8, 4]);
    assert.equal(stats.runs, 3);
    assert.equal(stats.median, 6);
  });

  it('returns nulls when no run has the figure', () => {
    const stats = figureStats([null, null]);
    assert.equal(stats.median, null);
    assert.equal(stats.min, null);
    assert.equal(stats.max, null);
  });
});

describe('percentChange', () => {
  it('returns the change in percent of the base', () => {
    assert.equal(percentChange(1000, 1100), 10);
    assert.equal(percentChange(0.004, 0.003), -25);
  });

  it('returns 0 when both are 0', () => {
    assert.equal(percentChange(0, 0), 0);
  });

  it('returns null from a base of 0', () => {
    assert.equal(percentChange(0, 5), null);
  });

  it('returns null for a missing figure', () => {
    assert.equal(percentChange(null, 5), null);
    assert.equal(percentChange(5, null), null);
  });
});

describe('noiseMark', () => {
  it('marks overlapping ranges within noise', () => {
    assert.equal(noiseMark(figureStats([900, 1100]), figureStats([1050, 1300])), 'within');
  });

  it('marks ranges that share one end within noise', () => {
    assert.equal(noiseMark(figureStats([900, 1100]), figureStats([1100, 1300])), 'within');
  });

  it('marks separate ranges beyond noise', () => {
    assert.equal(noiseMark(figureStats([900, 1100]), figureStats([1101, 1300])), 'beyond');
  });

  it('leaves a single run unknown', () => {
    assert.equal(noiseMark(figureStats([900, 1100]), figureStats([1000])), 'unknown');
    assert.equal(noiseMark(figureStats([1000]), figureStats([900, 1100])), 'unknown');
  });
});
