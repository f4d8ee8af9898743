import assert from 'node:assert/strict';
import FakeTimers from '@sinonjs/fake-timers';
import { MemoryAdmissionBackend } from '../../../src/platform/admission/index.js';
import { systemClock } from '../../../src/platform/clock.js';
import { type BackendFactory, describeAdmissionConformance } from './conformance.js';
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
