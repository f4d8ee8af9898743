import assert from 'node:assert/strict';

import { KeyRateLimiter } from '../../../src/faults/providers/rate-limiter.js';

const MINUTE_MS = 60_000;

describe('KeyRateLimiter eviction', () => {
  it('evicts keys whose buckets refilled', () => {
    const limiter = new KeyRateLimiter(1, 1_000_000);
    for (let index = 0; index < 1000; index += 1) {
      limiter.take(`idle-${index}`, 10, 0);
    }
    assert.equal(limiter.size, 1000);
    for (let index = 0; index < 200; index += 1) {
      limiter.take('steady', 10, MINUTE_MS);
    }
    assert.equal(limiter.size, 1);
  });

  it('keeps keys that are still refilling', () => {
    const limiter = new KeyRateLimiter(1, 1_000_000);
    for (let index = 0; index < 100; index += 1) {
      limiter.take(`recent-${index}`, 10, 0);
    }
    for (let index = 0; index < 100; index += 1) {
      limiter.take('steady', 10, MINUTE_MS - 1);
    }
    assert.equal(limiter.size, 101);
  });

  it('stays bounded under a stream of new keys', () => {
    const limiter = new KeyRateLimiter(1, 1_000_000);
    let maxSize = 0;
    for (let second = 0; second < 600; second += 1) {
      for (let index = 0; index < 100; index += 1) {
        limiter.take(`key-${second}-${index}`, 10, second * 1000);
        maxSize = Math.max(maxSize, limiter.size);
      }
    }
    // A key that spent its one request per minute is full again 60 s later, so the map contains
    // the keys of the last 60 seconds only.
    assert.equal(limiter.size, 6000);
    assert.equal(maxSize, 6000);
  });

  it('leaves limiting of an active key unchanged', () => {
    const churned = new KeyRateLimiter(3, 1_000_000);
    const reference = new KeyRateLimiter(3, 1_000_000);
    const steps = [0, 0, 0, 0, 5_000, 20_000, 20_000, 30_000, 45_000, 80_000, 200_000, 200_000];
    for (const [index, now] of steps.entries()) {
      for (let other = 0; other < 50; other += 1) {
        churned.take(`other-${index}-${other}`, 10, now);
      }
      const expected = reference.take('active', 10, now);
      const actual = churned.take('active', 10, now);
      assert.deepEqual(actual, expected, `decision ${index} at ${now} ms`);
    }
  });

  it('limits an active key among evicted ones', () => {
    const limiter = new KeyRateLimiter(3, 1_000_000);
    for (let index = 0; index < 100; index += 1) {
      limiter.take(`other-${index}`, 10, 0);
    }
    for (let index = 0; index < 3; index += 1) {
      assert.equal(limiter.take('active', 10, 0).allowed, true);
    }
    for (let index = 0; index < 100; index += 1) {
      limiter.take(`later-${index}`, 10, 20_000);
    }
    assert.equal(limiter.size, 101);
    const refilled = limiter.take('active', 10, 20_000);
    assert.equal(refilled.allowed, true);
    assert.equal(refilled.requests.remaining, 0);
    const limited = limiter.take('active', 10, 20_000);
    assert.equal(limited.allowed, false);
    assert.equal(limited.limitedBy, 'requests');
    assert.equal(limited.retryAfterMs, 20_000);
  });
});
