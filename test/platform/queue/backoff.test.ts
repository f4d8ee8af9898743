import assert from 'node:assert/strict';

import { backoffDelayMs } from '../../../src/platform/queue/index.js';

describe('backoffDelayMs', () => {
  const policy = { baseMs: 100, maxMs: 1000 };

  it('doubles per attempt up to the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) =>
      backoffDelayMs(attempt, { ...policy, random: () => 0 }),
    );
    assert.deepEqual(delays, [50, 100, 200, 400, 500, 500]);
  });

  it('bounds jitter below the cap', () => {
    assert.equal(backoffDelayMs(3, { ...policy, random: () => 0.999999 }), 400);
    assert.equal(backoffDelayMs(3, { ...policy, random: () => 0.5 }), 300);
  });
});
