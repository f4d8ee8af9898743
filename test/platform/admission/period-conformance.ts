import assert from 'node:assert/strict';
import type { AdmissionBackend, AdmissionRequest } from '../../../src/platform/admission/index.js';
import { periodAt } from '../../../src/platform/admission/budget-period.js';
import type { TenantLimits } from '../../../src/platform/tenants/index.js';
import type { BackendFactory } from './conformance.js';
import { createManualClock, type ManualClock } from './fake-clock.js';

/** Ticket TTL of every backend here: a ticket admitted before a boundary expires after it. */
const TICKET_TTL_SECONDS = 600;

const TENANT: TenantLimits = {
  id: 'tenant-period',
  requestsPerMinute: 1000,
  tokensPerMinute: 1_000_000,
  maxInFlight: 1000,
  budgetUsd: 1,
  budgetPeriod: 'day',
};

function request(limits: Partial<TenantLimits>, maxCostUsd: number): AdmissionRequest {
  return { tenant: { ...TENANT, ...limits }, tokens: 10, maxCostUsd };
}

/**
 * Returns 1 ms before the end of the current UTC day or month. The clock starts near the
 * real time because Redis expires period hashes by its own clock, and a period that ended
 * long ago would be deleted at once.
 */
function justBeforeEnd(period: 'day' | 'month'): number {
  return periodAt(period, Date.now()).endMs - 1;
}

/** Admits a task of `costUsd` and settles it at that cost, filling the period's spend. */
async function spend(backend: AdmissionBackend, req: AdmissionRequest, costUsd: number) {
  const admission = await backend.admit(req);
  assert.ok(admission.admitted, 'the spending task was rejected');
  await backend.settle(admission.ticket, { run: 1, spentUsd: costUsd });
}

/** Runs the budget period behaviour every admission backend must share. */
export function describeBudgetPeriodConformance(name: string, factory: BackendFactory): void {
  describe(`${name} (budget period conformance)`, () => {
    let clock: ManualClock;
    let backend: AdmissionBackend;
    let cleanup: (() => Promise<void>) | undefined;

    async function start(at: number): Promise<void> {
      clock = createManualClock(at);
      ({ backend, cleanup } = await factory(clock, { ticketTtlSeconds: TICKET_TTL_SECONDS }));
    }

    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    it('resets day spend at 00:00 UTC', async () => {
      await start(justBeforeEnd('day'));
      await spend(backend, request({}, 0.5), 0.75);
      assert.deepEqual(await backend.usage(TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0.75,
      });
      clock.tick(1);
      assert.deepEqual(await backend.usage(TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0,
      });
    });

    it('rejects at the day budget until 00:00 UTC', async () => {
      await start(justBeforeEnd('day') - 59_999);
      await spend(backend, request({}, 1), 1);
      clock.tick(59_999);
      const before = await backend.admit(request({}, 0.5));
      assert.equal(before.admitted === false && before.reason, 'budget');
      assert.equal(before.admitted === false && before.fitsAfterReservations, false);
      assert.equal(before.admitted === false && before.budgetResetSeconds, 1);
      clock.tick(1);
      const after = await backend.admit(request({}, 0.5));
      assert.equal(after.admitted, true);
      assert.deepEqual(await backend.usage(TENANT), {
        inFlight: 1,
        reservedUsd: 0.5,
        spentUsd: 0,
      });
    });

    it('gives the seconds until the reset', async () => {
      await start(justBeforeEnd('day') - 3_599_999);
      await spend(backend, request({}, 1), 1);
      assert.deepEqual(await backend.admit(request({}, 0.5)), {
        admitted: false,
        reason: 'budget',
        retryAfterSeconds: 60,
        status: 429,
        limit: { name: 'budget_usd', value: 1 },
        fitsAfterReservations: false,
        budgetResetSeconds: 3600,
      });
      // 3,599.999 s round up to whole seconds.
      clock.tick(1);
      const later = await backend.admit(request({}, 0.5));
      assert.equal(later.admitted === false && later.budgetResetSeconds, 3600);
    });

    it('gives no reset time to a task above a day budget', async () => {
      await start(justBeforeEnd('day') - 3_599_999);
      assert.deepEqual(await backend.admit(request({}, 1.5)), {
        admitted: false,
        reason: 'budget',
        retryAfterSeconds: 60,
        status: 429,
        limit: { name: 'budget_usd', value: 1 },
        fitsAfterReservations: false,
      });
    });

    it('gives no reset time to a task above a month budget', async () => {
      await start(justBeforeEnd('month') - 3_599_999);
      await spend(backend, request({ budgetPeriod: 'month' }, 0.5), 0.5);
      const rejected = await backend.admit(request({ budgetPeriod: 'month' }, 1 + 1e-9));
      assert.equal(rejected.admitted === false && rejected.reason, 'budget');
      assert.equal(rejected.admitted === false && rejected.fitsAfterReservations, false);
      assert.equal('budgetResetSeconds' in rejected, false);
    });

    it('gives the reset time to a task of the whole budget', async () => {
      await start(justBeforeEnd('day') - 3_599_999);
      await spend(backend, request({}, 0.5), 0.5);
      const rejected = await backend.admit(request({}, 1));
      assert.equal(rejected.admitted === false && rejected.budgetResetSeconds, 3600);
    });

    it('admits the whole budget in the new day', async () => {
      await start(justBeforeEnd('day'));
      await spend(backend, request({}, 1), 1);
      clock.tick(1);
      const admitted = await backend.admit(request({}, 1));
      assert.equal(admitted.admitted, true);
      const over = await backend.admit(request({}, 1e-9));
      assert.equal(over.admitted === false && over.reason, 'budget');
    });

    it('keeps month spend across a day boundary', async () => {
      const endOfDay = justBeforeEnd('day');
      // On the last day of a month, the day's end is also the month's.
      const at = endOfDay === justBeforeEnd('month') ? endOfDay - 86_400_000 : endOfDay;
      await start(at);
      const req = request({ budgetPeriod: 'month' }, 1);
      await spend(backend, req, 1);
      clock.tick(1);
      const rejected = await backend.admit(req);
      assert.equal(rejected.admitted === false && rejected.reason, 'budget');
      assert.equal((await backend.usage(req.tenant)).spentUsd, 1);
    });

    it('resets month spend on the 1st at 00:00 UTC', async () => {
      await start(justBeforeEnd('month'));
      const req = request({ budgetPeriod: 'month' }, 1);
      await spend(backend, req, 1);
      const before = await backend.admit(req);
      assert.equal(before.admitted === false && before.reason, 'budget');
      assert.equal((await backend.usage(req.tenant)).spentUsd, 1);
      clock.tick(1);
      assert.equal((await backend.usage(req.tenant)).spentUsd, 0);
      const after = await backend.admit(req);
      assert.equal(after.admitted, true);
    });

    it('never resets a total budget', async () => {
      await start(justBeforeEnd('month'));
      const req = request({ budgetPeriod: 'total' }, 1);
      await spend(backend, req, 1);
      clock.tick(1);
      const rejected = await backend.admit(req);
      assert.equal(rejected.admitted === false && rejected.reason, 'budget');
      assert.equal(rejected.admitted === false && rejected.fitsAfterReservations, false);
      assert.equal('budgetResetSeconds' in rejected, false);
      assert.deepEqual(await backend.usage(req.tenant), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 1,
      });
    });

    it('leaves a straddling reservation out of the new day', async () => {
      await start(justBeforeEnd('day'));
      const straddling = await backend.admit(request({}, 0.75));
      assert.ok(straddling.admitted);
      clock.tick(1);
      assert.deepEqual(await backend.usage(TENANT), {
        inFlight: 1,
        reservedUsd: 0,
        spentUsd: 0,
      });
      // The new day's budget is whole: the reservation counts in the day that admitted it.
      const full = await backend.admit(request({}, 1));
      assert.equal(full.admitted, true);
    });

    it('settles a straddling ticket in its own day', async () => {
      await start(justBeforeEnd('day'));
      const straddling = await backend.admit(request({}, 0.75));
      assert.ok(straddling.admitted);
      clock.tick(1);
      assert.equal((await backend.admit(request({}, 0.25))).admitted, true);
      const settled = await backend.settle(straddling.ticket, { run: 1, spentUsd: 0.5 });
      assert.deepEqual(settled, { outcome: 'applied', runs: [{ run: 1, spentUsd: 0.5 }] });
      assert.deepEqual(await backend.usage(TENANT), {
        inFlight: 1,
        reservedUsd: 0.25,
        spentUsd: 0,
      });
    });

    it("checks a straddling charge against its own day's budget", async () => {
      await start(justBeforeEnd('day'));
      const first = await backend.admit(request({}, 0.5));
      const second = await backend.admit(request({}, 0.25));
      assert.ok(first.admitted);
      assert.ok(second.admitted);
      clock.tick(1);
      assert.equal((await backend.admit(request({}, 0.25))).admitted, true);
      // The old day now has 0.5 spent and 0.25 reserved of 1, and the new day 0.25 reserved.
      await backend.settle(first.ticket, { run: 1, spentUsd: 0.5 });
      assert.deepEqual(await backend.charge(second.ticket, { run: 1, spentUsd: 0.25 }), {
        open: true,
        withinBudget: true,
      });
      assert.deepEqual(await backend.charge(second.ticket, { run: 1, spentUsd: 0.5 }), {
        open: true,
        withinBudget: false,
      });
      assert.deepEqual(await backend.usage(TENANT), {
        inFlight: 2,
        reservedUsd: 0.25,
        spentUsd: 0,
      });
    });

    it('releases a straddling reservation in its day', async () => {
      await start(justBeforeEnd('day'));
      const released = await backend.admit(request({}, 0.5));
      const charged = await backend.admit(request({}, 0.5));
      assert.ok(released.admitted);
      assert.ok(charged.admitted);
      clock.tick(1);
      assert.equal((await backend.admit(request({}, 0.25))).admitted, true);
      assert.deepEqual(await backend.release(released.ticket), { outcome: 'applied', runs: [] });
      // The old day has 0.5 reserved left of 1, so spending 0.5 more fits it exactly.
      assert.deepEqual(await backend.charge(charged.ticket, { run: 1, spentUsd: 0.5 }), {
        open: true,
        withinBudget: true,
      });
      assert.deepEqual(await backend.charge(charged.ticket, { run: 1, spentUsd: 0.5000001 }), {
        open: true,
        withinBudget: false,
      });
    });

    it("checks a total ticket's charge against the total budget", async () => {
      // A restart that switched the tenant from a total budget of 100 to a day budget of 10.
      await start(justBeforeEnd('day') - 60_000);
      const total = request({ budgetPeriod: 'total', budgetUsd: 100 }, 1);
      await spend(backend, total, 90);
      const old = await backend.admit(total);
      assert.ok(old.admitted);
      const day = await backend.admit(request({ budgetUsd: 10 }, 1));
      assert.equal(day.admitted, true);
      assert.deepEqual(await backend.charge(old.ticket, { run: 1, spentUsd: 0.5 }), {
        open: true,
        withinBudget: true,
      });
      assert.deepEqual(await backend.charge(old.ticket, { run: 1, spentUsd: 10 }), {
        open: true,
        withinBudget: false,
      });
    });

    it("checks a day ticket's charge against its day's budget", async () => {
      // A restart that switched the tenant from a day budget of 1 to a total budget of 100.
      await start(justBeforeEnd('day') - 60_000);
      const old = await backend.admit(request({}, 0.5));
      assert.ok(old.admitted);
      const total = await backend.admit(request({ budgetPeriod: 'total', budgetUsd: 100 }, 1));
      assert.equal(total.admitted, true);
      assert.deepEqual(await backend.charge(old.ticket, { run: 1, spentUsd: 0.5 }), {
        open: true,
        withinBudget: true,
      });
      assert.deepEqual(await backend.charge(old.ticket, { run: 1, spentUsd: 0.75 }), {
        open: true,
        withinBudget: false,
      });
    });

    it("checks a day's charge against its latest budget", async () => {
      // A restart within the day that lowered the day budget from 1 to 0.5.
      await start(justBeforeEnd('day') - 60_000);
      const old = await backend.admit(request({}, 0.25));
      assert.ok(old.admitted);
      const lowered = await backend.admit(request({ budgetUsd: 0.5 }, 0.25));
      assert.equal(lowered.admitted, true);
      assert.deepEqual(await backend.charge(old.ticket, { run: 1, spentUsd: 0.125 }), {
        open: true,
        withinBudget: false,
      });
    });

    it('closes an expired ticket of the previous day', async () => {
      await start(justBeforeEnd('day'));
      const req = request({ maxInFlight: 1 }, 0.5);
      const stale = await backend.admit(req);
      assert.ok(stale.admitted);
      clock.tick(TICKET_TTL_SECONDS * 1000);
      const next = await backend.admit(req);
      assert.equal(next.admitted, true);
      assert.deepEqual(await backend.usage(TENANT), {
        inFlight: 1,
        reservedUsd: 0.5,
        spentUsd: 0,
      });
      const late = await backend.settle(stale.ticket, { run: 1, spentUsd: 0.25 });
      assert.equal(late.outcome, 'already_closed');
    });

    it('reads usage in the period it is given', async () => {
      await start(justBeforeEnd('day') - 60_000);
      await spend(backend, request({}, 0.5), 0.25);
      assert.deepEqual(await backend.usage({ id: TENANT.id, budgetPeriod: 'month' }), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0,
      });
      assert.deepEqual(await backend.usage(TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0.25,
      });
    });

    it('reads several tenants in input order', async () => {
      await start(justBeforeEnd('day') - 60_000);
      const monthly = { ...TENANT, id: 'tenant-period-month', budgetPeriod: 'month' as const };
      await spend(backend, request({}, 0.5), 0.25);
      assert.ok((await backend.admit({ tenant: monthly, tokens: 10, maxCostUsd: 0.125 })).admitted);
      assert.deepEqual(await backend.usageOf([monthly, TENANT, { id: 'tenant-unseen' }]), [
        { inFlight: 1, reservedUsd: 0.125, spentUsd: 0 },
        { inFlight: 0, reservedUsd: 0, spentUsd: 0.25 },
        { inFlight: 0, reservedUsd: 0, spentUsd: 0 },
      ]);
    });

    it('rejects an unknown budget period', async () => {
      await start(justBeforeEnd('day'));
      const tenant = { ...TENANT, budgetPeriod: 'week' } as unknown as TenantLimits;
      await assert.rejects(
        backend.admit({ tenant, tokens: 10, maxCostUsd: 0.5 }),
        /tenant.budgetPeriod must be one of total, day, month, got "week"/,
      );
    });
  });
}
