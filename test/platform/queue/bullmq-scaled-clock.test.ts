import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { scaledClock, systemClock } from '../../../src/platform/clock.js';
import { type BullmqTaskQueue, createBullmqQueue } from '../../../src/platform/queue/index.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('BullMQ driver on a scaled clock', () => {
  let queue: BullmqTaskQueue<null> | undefined;

  afterEach(async () => {
    await queue?.obliterate();
    queue = undefined;
  });

  it('scales the oldest wait, not the clock lead', async () => {
    // A drill's clock, started 10 s of wall time ago at scale 4, is 30 s ahead of the
    // system clock that BullMQ stamps its jobs with.
    const clock = scaledClock(4, systemClock, Date.now() - 10_000);
    const suffix = randomBytes(6).toString('hex');
    queue = createBullmqQueue<null>({
      connection: REDIS_URL,
      name: `scaled-${suffix}`,
      prefix: `sgtest-${suffix}`,
      clock,
    });
    await queue.enqueue('job-1', null);
    await systemClock.sleep(300);

    const { depth, oldestAgeMs } = await queue.gauges();

    assert.equal(depth, 1);
    // 300 ms or a little more of wall time, 4 times over.
    assert.ok(oldestAgeMs >= 1_200, `oldestAgeMs ${oldestAgeMs}`);
    assert.ok(oldestAgeMs < 5_000, `oldestAgeMs ${oldestAgeMs}`);
  });
});
