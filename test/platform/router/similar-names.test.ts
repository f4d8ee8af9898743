import assert from 'node:assert/strict';
import {
  alternatives,
  similarNames,
  uniqueSimilarName,
} from '../../../src/platform/router/similar-names.js';

const ROUTE_KEYS = ['firstTokenTimeoutMs', 'stallTimeoutMs', 'deadlineMs', 'retryBackoffMs'];

describe('similarNames', () => {
  it('matches a name that differs only by case', () => {
    assert.deepEqual(similarNames('deadlineMS', ROUTE_KEYS), ['deadlineMs']);
  });

  it('matches two swapped letters as one edit', () => {
    assert.deepEqual(similarNames('dealdineMs', ROUTE_KEYS), ['deadlineMs']);
  });

  it('matches two edits in a long name', () => {
    assert.deepEqual(similarNames('stalTimeotMs', ROUTE_KEYS), ['stallTimeoutMs']);
  });

  it('rejects three edits', () => {
    assert.deepEqual(similarNames('stalTimotMs', ROUTE_KEYS), []);
  });

  it('allows one edit in a short name', () => {
    assert.deepEqual(similarNames('ratoi', ['ratio']), ['ratio']);
    assert.deepEqual(similarNames('rat', ['ratio']), []);
    assert.deepEqual(similarNames('rtio', ['ratio']), ['ratio']);
  });

  it('returns every name at the smallest distance', () => {
    assert.deepEqual(similarNames('ab', ['ac', 'ad', 'abcd']), ['ac', 'ad']);
  });

  it('skips the name itself', () => {
    assert.deepEqual(similarNames('ratio', ['ratio']), []);
  });
});

describe('uniqueSimilarName', () => {
  it('returns the one close name', () => {
    assert.equal(uniqueSimilarName('provider-C', ['provider-a', 'provider-c']), 'provider-c');
  });

  it('returns undefined for a tie', () => {
    assert.equal(uniqueSimilarName('provider-c', ['provider-d', 'provider-e']), undefined);
  });

  it('returns undefined when none is close', () => {
    assert.equal(uniqueSimilarName('provider-c', ['vendor-c']), undefined);
  });
});

describe('alternatives', () => {
  it('joins names with commas and or', () => {
    const quote = (name: string): string => `"${name}"`;
    assert.equal(alternatives(['a'], quote), '"a"');
    assert.equal(alternatives(['a', 'b'], quote), '"a" or "b"');
    assert.equal(alternatives(['a', 'b', 'c'], quote), '"a", "b" or "c"');
  });
});
