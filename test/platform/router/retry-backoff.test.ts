import assert from 'node:assert/strict';
import {
  MAX_RETRY_BACKOFF_MS,
  retryBackoffMs,
} from '../../../src/platform/router/retry-backoff.js';

describe('retryBackoffMs', () => {
  it('doubles the wait with each repeat', () => {
    const waits = [1, 2, 3, 4].map((repeat) => retryBackoffMs(100, repeat, () => 0));
    assert.deepEqual(waits, [50, 100, 200, 400]);
  });

  it('keeps a random share of the upper half', () => {
    assert.equal(
      retryBackoffMs(100, 1, () => 0.5),
      75,
    );
    assert.equal(
      retryBackoffMs(100, 1, () => 0.999),
      99.95,
    );
  });

  it('caps the wait', () => {
    assert.equal(MAX_RETRY_BACKOFF_MS, 5000);
    assert.equal(
      retryBackoffMs(100, 50, () => 0.999),
      4997.5,
    );
    assert.equal(
      retryBackoffMs(100, 5000, () => 0),
      2500,
    );
  });

  it('keeps a base wait longer than the cap', () => {
    assert.equal(
      retryBackoffMs(8000, 3, () => 0),
      4000,
    );
  });

  it('caps the wait at a given cap', () => {
    assert.equal(
      retryBackoffMs(100, 50, () => 0, 1000),
      500,
    );
    assert.equal(
      retryBackoffMs(100, 2, () => 0, 1000),
      100,
    );
  });

  it('returns 0 for a zero base', () => {
    assert.equal(
      retryBackoffMs(0, 3, () => 0.5),
      0,
    );
  });
});
