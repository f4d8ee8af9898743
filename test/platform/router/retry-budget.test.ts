import assert from 'node:assert/strict';
import { RetryBudget } from '../../../src/platform/router/index.js';
import { createTestClock } from '../providers/test-clock.js';

describe('RetryBudget', () => {
  it('allows a fixed number of retries per window', () => {
    const budget = new RetryBudget(
      { windowMs: 1000, maxRetriesPerWindow: 2, maxAttemptsPerTask: 3 },
      createTestClock(),
    );
    assert.deepEqual(
      [budget.tryRetry(), budget.tryRetry(), budget.tryRetry()],
      [true, true, false],
    );
  });

  it('scales retries with first attempts by ratio', () => {
    const budget = new RetryBudget(
      { windowMs: 1000, ratio: 0.5, maxAttemptsPerTask: 3 },
      createTestClock(),
    );
    for (let index = 0; index < 4; index += 1) {
      budget.recordFirstAttempt();
    }
    assert.equal(budget.allowedRetries(), 2);
  });

  // The policy checks on minRetriesPerWindow and ratio rely on the next two cases.
  it('ignores minRetriesPerWindow without ratio', () => {
    const budget = new RetryBudget(
      { windowMs: 1000, maxRetriesPerWindow: 2, minRetriesPerWindow: 5, maxAttemptsPerTask: 3 },
      createTestClock(),
    );
    assert.equal(budget.allowedRetries(), 2);
  });

  it('caps the ratio at maxRetriesPerWindow', () => {
    const budget = new RetryBudget(
      {
        windowMs: 1000,
        maxRetriesPerWindow: 2,
        ratio: 0.5,
        minRetriesPerWindow: 2,
        maxAttemptsPerTask: 3,
      },
      createTestClock(),
    );
    assert.equal(budget.allowedRetries(), 2);
    for (let index = 0; index < 10; index += 1) {
      budget.recordFirstAttempt();
    }
    assert.equal(budget.allowedRetries(), 2);
  });

  it('refills after the window passes', async () => {
    const clock = createTestClock();
    const budget = new RetryBudget(
      { windowMs: 1000, maxRetriesPerWindow: 1, maxAttemptsPerTask: 3 },
      clock,
    );
    assert.equal(budget.tryRetry(), true);
    assert.equal(budget.tryRetry(), false);
    await clock.drive(clock.sleep(1200), { stepMs: 100 });
    assert.equal(budget.tryRetry(), true);
  });
});
