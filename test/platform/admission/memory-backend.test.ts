import assert from 'node:assert/strict';
import FakeTimers from '@sinonjs/fake-timers';
import { MemoryAdmissionBackend } from '../../../src/platform/admission/index.js';
import { systemClock } from '../../../src/platform/clock.js';
import { type BackendFactory, describeAdmissionConformance } from './conformance.js';
import { createManualClock } from './fake-clock.js';
import { describeBudgetPeriodConformance } from './period-conformance.js';

const memoryBackend: BackendFactory = async (clock, options) => {
  const backend = new MemoryAdmissionBackend({ ...options, clock });
  return { backend, cleanup: () => backend.close() };
};

describeAdmissionConformance('MemoryAdmissionBackend', memoryBackend);
describeBudgetPeriodConformance('MemoryAdmissionBackend', memoryBackend);

describe('MemoryAdmissionBackend', () => {
  let timers: ReturnType<typeof FakeTimers.install> | undefined;

  afterEach(() => {
    timers?.uninstall();
    timers = undefined;
  });

  it('refills with installed fake timers on the system clock', async () => {
    timers = FakeTimers.install({ now: Date.UTC(2025, 0, 15), toFake: ['Date'] });
    const backend = new MemoryAdmissionBackend({ clock: systemClock });
    const tenant = {
      id: 'tenant-fake-timers',
      requestsPerMinute: 120,
      tokensPerMinute: 1000,
      maxInFlight: 1000,
      budgetUsd: 1,
    };
    const req = { tenant, tokens: 0, maxCostUsd: 0 };
    for (let i = 0; i < 120; i += 1) {
      await backend.admit(req);
    }
    const rejected = await backend.admit(req);
    assert.equal(rejected.admitted === false && rejected.reason, 'requests_per_minute');
    assert.equal(rejected.admitted === false && rejected.retryAfterSeconds, 1);
    timers.tick(500);
    assert.equal((await backend.admit(req)).admitted, true);
  });

  it('rejects a non-integer budgetRetryAfterSeconds', () => {
    assert.throws(
      () => new MemoryAdmissionBackend({ budgetRetryAfterSeconds: 0.5 }),
      /budgetRetryAfterSeconds must be an integer >= 1, got 0.5/,
    );
  });
});

describe('MemoryAdmissionBackend budget periods on calendar edges', () => {
  const tenant = {
    id: 'tenant-calendar',
    requestsPerMinute: 1000,
    tokensPerMinute: 1_000_000,
    maxInFlight: 1000,
    budgetUsd: 1,
  };

  /** Fills the budget 1 ms before `boundaryMs` and returns the admission at the boundary. */
  async function admitAcross(period: 'day' | 'month', boundaryMs: number) {
    const clock = createManualClock(boundaryMs - 1);
    const backend = new MemoryAdmissionBackend({ clock });
    const request = { tenant: { ...tenant, budgetPeriod: period }, tokens: 1, maxCostUsd: 1 };
    const first = await backend.admit(request);
    assert.ok(first.admitted);
    await backend.settle(first.ticket, { run: 1, spentUsd: 1 });
    const before = await backend.admit(request);
    clock.tick(1);
    const after = await backend.admit(request);
    return { before, after };
  }

  const edges: [name: string, period: 'day' | 'month', boundaryMs: number][] = [
    ['Dec 31 to Jan 1', 'month', Date.UTC(2027, 0, 1)],
    ['Feb 28 to Mar 1', 'day', Date.UTC(2027, 2, 1)],
    ['Feb 29 to Mar 1', 'month', Date.UTC(2028, 2, 1)],
    ['Apr 30 to May 1', 'month', Date.UTC(2027, 4, 1)],
    ['May 31 to Jun 1', 'day', Date.UTC(2027, 5, 1)],
  ];
  for (const [name, period, boundaryMs] of edges) {
    it(`resets a ${period} budget from ${name}`, async () => {
      const { before, after } = await admitAcross(period, boundaryMs);
      assert.equal(before.admitted === false && before.reason, 'budget');
      assert.equal(before.admitted === false && before.budgetResetSeconds, 1);
      assert.equal(after.admitted, true);
    });
  }

  it('keeps a month budget from Feb 28 to Feb 29', async () => {
    const { before, after } = await admitAcross('month', Date.UTC(2028, 1, 29));
    assert.equal(before.admitted, false);
    assert.equal(after.admitted === false && after.reason, 'budget');
  });
});
