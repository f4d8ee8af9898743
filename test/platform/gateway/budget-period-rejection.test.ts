import assert from 'node:assert/strict';
import FakeTimers from '@sinonjs/fake-timers';
import type { Rejection } from '../../../src/platform/admission/types.js';
import { rejectionError } from '../../../src/platform/gateway/task-service.js';
import { ALPHA_KEY, bearer, fakePlatform, SYNC_TASK, testTenant } from './fake-platform.js';

/** Builds a budget rejection of 0.01 USD that freeing reservations cannot lift. */
function spentBudget(extra: Partial<Rejection> = {}): Rejection {
  return {
    admitted: false,
    reason: 'budget',
    retryAfterSeconds: 60,
    status: 429,
    limit: { name: 'budget_usd', value: 0.01 },
    fitsAfterReservations: false,
    reservationUsd: 0.01,
    ...extra,
  };
}

describe('gateway budget period rejections', () => {
  let timers: ReturnType<typeof FakeTimers.install> | undefined;

  afterEach(() => {
    timers?.uninstall();
    timers = undefined;
  });

  it('retries a spent day budget at 00:00 UTC', async () => {
    // Only Date is faked, so the gateway's other timers run as usual.
    timers = FakeTimers.install({ now: Date.UTC(2026, 11, 6, 23, 0, 0), toFake: ['Date'] });
    const tenants = [
      testTenant('tenant-alpha', ALPHA_KEY, { budgetUsd: 0.01, budgetPeriod: 'day' }),
    ];
    const { app } = fakePlatform({ tenants });
    const send = () =>
      app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: bearer(ALPHA_KEY),
        payload: SYNC_TASK,
      });
    assert.equal((await send()).statusCode, 200);
    const second = await send();
    assert.equal(second.statusCode, 429);
    assert.equal(second.headers['retry-after'], '3600');
    assert.equal(second.json().error.code, 'budget_exhausted');
    assert.equal(
      second.json().error.message,
      "budget_usd limit of 0.01 per UTC day for tenant tenant-alpha leaves no room for this task's reservation of $0.01000, and freeing the reservations of running tasks would not make room; retry after 3600 s, when the budget period ends and its spend resets, or raise budgetUsd in the tenants file",
    );
  });

  it('gives no Retry-After to a task above the day budget', async () => {
    timers = FakeTimers.install({ now: Date.UTC(2026, 11, 6, 23, 0, 0), toFake: ['Date'] });
    const tenants = [
      testTenant('tenant-alpha', ALPHA_KEY, { budgetUsd: 0.005, budgetPeriod: 'day' }),
    ];
    const { app } = fakePlatform({ tenants });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: bearer(ALPHA_KEY),
      payload: SYNC_TASK,
    });
    assert.equal(response.statusCode, 429);
    assert.equal(response.headers['retry-after'], undefined);
    assert.equal(response.json().error.code, 'budget_exhausted');
    assert.equal(
      response.json().error.message,
      "budget_usd limit of 0.005 per UTC day for tenant tenant-alpha is below this task's reservation of $0.01000, so no retry can pass, not even in a later period; raise budgetUsd in the tenants file, or lower maxOutputTokens or the input, which size the reservation",
    );
  });

  it('names a month budget', () => {
    const tenant = testTenant('tenant-alpha', ALPHA_KEY, { budgetPeriod: 'month' });
    const error = rejectionError(spentBudget({ budgetResetSeconds: 86_400 }), tenant);
    assert.match(error.message, /^budget_usd limit of 0\.01 per UTC calendar month for tenant/);
    assert.equal(error.details.retryAfterSeconds, 86_400);
  });

  it('names no period for a total budget', () => {
    const tenant = testTenant('tenant-alpha', ALPHA_KEY, { budgetPeriod: 'total' });
    const error = rejectionError(spentBudget(), tenant);
    assert.match(error.message, /^budget_usd limit of 0\.01 for tenant tenant-alpha leaves/);
    assert.equal(error.details.retryAfterSeconds, undefined);
  });

  it('retries at the reset when it comes first', () => {
    const tenant = testTenant('tenant-alpha', ALPHA_KEY, { budgetPeriod: 'day' });
    const rejection = spentBudget({ fitsAfterReservations: true, budgetResetSeconds: 5 });
    const error = rejectionError(rejection, tenant);
    assert.equal(
      error.message,
      "budget_usd limit of 0.01 per UTC day for tenant tenant-alpha leaves no room for this task's reservation of $0.01000; retry after 5 s, when the budget period ends and its spend resets, or raise budgetUsd in the tenants file",
    );
    assert.equal(error.details.retryAfterSeconds, 5);
  });

  it('keeps the reservation retry within a day', () => {
    const tenant = testTenant('tenant-alpha', ALPHA_KEY, { budgetPeriod: 'day' });
    const rejection = spentBudget({ fitsAfterReservations: true, budgetResetSeconds: 7200 });
    const error = rejectionError(rejection, tenant);
    assert.match(error.message, /per UTC day .*; retry after 60 s, when running tasks may have/);
    assert.equal(error.details.retryAfterSeconds, 60);
  });
});
