import assert from 'node:assert/strict';

import { createBackpressure } from '../../../src/platform/admission/backpressure.js';
import type { QueueGauges } from '../../../src/platform/queue/queue.js';
import type { QueuedTaskHold } from '../../../src/platform/gateway/ports.js';
import { QueueBackpressureGate } from '../../../src/platform/runtime/admission-gate.js';
import { createManualClock } from '../admission/fake-clock.js';

const GAUGES: QueueGauges = {
  depth: 0,
  active: 0,
  oldestAgeMs: 0,
  completed: 0,
  failed: 0,
  deadLettered: 0,
};

/** Gauge reads that resolve only when the test calls `resolve` with the read's index. */
function controlledReads() {
  const pending: ((gauges: QueueGauges) => void)[] = [];
  return {
    read: () => new Promise<QueueGauges>((resolve) => pending.push(resolve)),
    get count() {
      return pending.length;
    },
    resolve: (index: number) => pending[index]?.(GAUGES),
  };
}

describe('QueueBackpressureGate', () => {
  const rule = () => createBackpressure({ maxQueueDepth: 100, maxOldestAgeMs: 60_000 });

  it('shares a gauge read still in flight', async () => {
    const clock = createManualClock();
    const reads = controlledReads();
    const gate = new QueueBackpressureGate(rule(), reads.read, clock, 100);
    const first = gate.check('standard');
    clock.tick(500);
    const second = gate.check('standard');
    clock.tick(500);
    const third = gate.check('standard');
    assert.equal(reads.count, 1);
    reads.resolve(0);
    assert.deepEqual(await Promise.all([first, second, third]), [undefined, undefined, undefined]);
  });

  it('reads again once the sample is older than its limit', async () => {
    const clock = createManualClock();
    const reads = controlledReads();
    const gate = new QueueBackpressureGate(rule(), reads.read, clock, 100);
    const first = gate.check('standard');
    reads.resolve(0);
    await first;
    clock.tick(100);
    await gate.check('standard');
    assert.equal(reads.count, 1);
    clock.tick(1);
    const late = gate.check('standard');
    assert.equal(reads.count, 2);
    reads.resolve(1);
    assert.equal(await late, undefined);
  });

  it('reads again after a failed read', async () => {
    const clock = createManualClock();
    let calls = 0;
    const read = async () => {
      calls += 1;
      if (calls === 1) throw new Error('connection lost');
      return GAUGES;
    };
    const gate = new QueueBackpressureGate(rule(), read, clock, 100);
    await assert.rejects(gate.check('standard'), /connection lost/);
    assert.equal(await gate.check('standard'), undefined);
    assert.equal(calls, 2);
  });

  it('counts tasks enqueued since the sample was read', async () => {
    const clock = createManualClock();
    const depths = [96, 97];
    const read = async () => ({ ...GAUGES, depth: depths.shift() ?? 0 });
    const gate = new QueueBackpressureGate(rule(), read, clock, 100);
    const holds: QueuedTaskHold[] = [];
    for (let count = 0; count < 4; count += 1) {
      const hold = await gate.checkQueued('critical');
      assert.ok(hold.admitted, `task ${count + 1} shed at a depth of ${96 + count}`);
      holds.push(hold);
    }
    assert.equal((await gate.checkQueued('critical')).admitted, false);
    for (const hold of holds) hold.enqueued();
    assert.equal((await gate.checkQueued('critical')).admitted, false);
    // The next read finds 97 tasks and no longer adds the 4 enqueued before it, so 3 fit.
    clock.tick(101);
    const after = await gate.checkQueued('critical');
    assert.ok(after.admitted);
    assert.equal(await gate.check('critical'), undefined);
    assert.equal((await gate.checkQueued('critical')).admitted, true);
    assert.equal((await gate.checkQueued('critical')).admitted, true);
    assert.equal((await gate.checkQueued('critical')).admitted, false);
  });

  it('stops counting a task that is abandoned', async () => {
    const clock = createManualClock();
    const read = async () => ({ ...GAUGES, depth: 99 });
    const gate = new QueueBackpressureGate(rule(), read, clock, 100);
    const hold = await gate.checkQueued('critical');
    assert.ok(hold.admitted);
    assert.equal((await gate.checkQueued('critical')).admitted, false);
    hold.abandon();
    hold.enqueued();
    assert.equal((await gate.checkQueued('critical')).admitted, true);
  });
});
