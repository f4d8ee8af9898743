import assert from 'node:assert/strict';

import { MAX_TIMER_MS, sleepInSteps } from '../../src/faults/limits.js';

describe('sleepInSteps', () => {
  async function steps(ms: number): Promise<number[]> {
    const recorded: number[] = [];
    await sleepInSteps(async (step) => {
      recorded.push(step);
    }, ms);
    return recorded;
  }

  it('sleeps once for a delay within the timer maximum', async () => {
    assert.deepEqual(await steps(1500), [1500]);
  });

  it('splits a delay above the timer maximum', async () => {
    assert.deepEqual(await steps(MAX_TIMER_MS * 2 + 10), [MAX_TIMER_MS, MAX_TIMER_MS, 10]);
  });

  it('sleeps 0 ms for a negative delay', async () => {
    assert.deepEqual(await steps(-5), [0]);
  });
});
