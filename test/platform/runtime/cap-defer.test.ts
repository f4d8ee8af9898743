import assert from 'node:assert/strict';

import { MemoryRunSlots } from '../../../src/platform/admission/run-slots.js';
import { systemClock } from '../../../src/platform/clock.js';
import { isDeferError } from '../../../src/platform/queue/index.js';
import { capDeferMs, createTaskHandler } from '../../../src/platform/runtime/task-consumer.js';
import { TaskFinisher } from '../../../src/platform/runtime/task-finisher.js';
import { MemoryAdmissionBackend } from '../../../src/platform/admission/memory-backend.js';
import { MemoryTaskStore } from '../../../src/platform/store/memory.js';

describe('wait of a task over its tenant running cap', () => {
  it('starts at 250 ms for a first delivery', () => {
    assert.equal(
      capDeferMs({ attempt: 1, deliveries: 1 }, () => 0),
      250,
    );
    assert.equal(
      capDeferMs({ attempt: 1, deliveries: 1 }, () => 0.999),
      499,
    );
  });

  it('doubles with each earlier deferral', () => {
    const waits = [2, 3, 4].map((deliveries) => capDeferMs({ attempt: 1, deliveries }, () => 0));
    assert.deepEqual(waits, [500, 1000, 2000]);
  });

  it('stays at 2 to 4 s after many deferrals', () => {
    assert.equal(
      capDeferMs({ attempt: 1, deliveries: 40 }, () => 0),
      2000,
    );
    assert.equal(
      capDeferMs({ attempt: 1, deliveries: 40 }, () => 0.999),
      3998,
    );
  });

  it('counts deliveries beyond the attempt only', () => {
    // A third attempt after two runs that failed has not been deferred yet.
    assert.equal(
      capDeferMs({ attempt: 3, deliveries: 3 }, () => 0),
      250,
    );
  });

  it('defers a capped job by its backoff', async () => {
    const store = new MemoryTaskStore();
    const admission = new MemoryAdmissionBackend();
    const runSlots = new MemoryRunSlots();
    await runSlots.acquire('tenant-alpha', 'other-task', 1, 60_000);
    const handler = createTaskHandler({
      store,
      router: { call: () => Promise.reject(new Error('no call expected')) },
      finisher: new TaskFinisher({ store, admission, clock: systemClock }),
      clock: systemClock,
      maxAttempts: 3,
      runSlots,
      maxRunningOf: () => 1,
    });
    const ticket = { id: 't1', tenantId: 'tenant-alpha', reservedUsd: 0, tokens: 0 };
    const job = { id: 't1', data: { ticket }, attempt: 1, deliveries: 6, enqueuedAt: Date.now() };
    const error = await handler(job).then(
      () => assert.fail('the capped job ran'),
      (thrown: unknown) => thrown,
    );
    assert.ok(isDeferError(error));
    assert.ok(error.delayMs >= 2000, `delay ${error.delayMs} ms`);
    assert.ok(error.delayMs < 4000, `delay ${error.delayMs} ms`);
  });
});
