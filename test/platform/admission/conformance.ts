import assert from 'node:assert/strict';
import type { AdmissionBackend, AdmissionRequest } from '../../../src/platform/admission/index.js';
import type { AdmissionOptions } from '../../../src/platform/admission/options.js';
import { isAdmissionInputError } from '../../../src/platform/admission/index.js';
import type { TenantLimits } from '../../../src/platform/tenants/index.js';
import { createManualClock, type ManualClock } from './fake-clock.js';

/** Builds a backend on the given clock, with a `cleanup` that removes whatever it stored. */
export type BackendFactory = (
  clock: ManualClock,
  options: AdmissionOptions,
) => Promise<{ backend: AdmissionBackend; cleanup: () => Promise<void> }>;

/** Ticket TTL of every conformance backend: longer than any other test's clock ticks. */
const TICKET_TTL_SECONDS = 600;

const BASE_TENANT: TenantLimits = {
  id: 'tenant-conformance',
  requestsPerMinute: 1000,
  tokensPerMinute: 1_000_000,
  maxInFlight: 1000,
  budgetUsd: 1000,
};

function request(limits: Partial<TenantLimits>, extra: Partial<AdmissionRequest> = {}) {
  return { tenant: { ...BASE_TENANT, ...limits }, tokens: 10, maxCostUsd: 0.01, ...extra };
}

async function admitMany(backend: AdmissionBackend, req: AdmissionRequest, count: number) {
  const results = [];
  for (let i = 0; i < count; i += 1) {
    results.push(await backend.admit(req));
  }
  return results;
}

/** Runs the behaviour every admission backend must share. */
export function describeAdmissionConformance(name: string, factory: BackendFactory): void {
  describe(`${name} (admission conformance)`, () => {
    let clock: ManualClock;
    let backend: AdmissionBackend;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      clock = createManualClock();
      ({ backend, cleanup } = await factory(clock, { ticketTtlSeconds: TICKET_TTL_SECONDS }));
    });

    afterEach(async () => {
      await cleanup();
    });

    it('rejects past requestsPerMinute', async () => {
      const req = request({ requestsPerMinute: 5 });
      const results = await admitMany(backend, req, 6);
      assert.equal(results.filter((result) => result.admitted).length, 5);
      assert.deepEqual(results[5], {
        admitted: false,
        reason: 'requests_per_minute',
        retryAfterSeconds: 12,
        status: 429,
        limit: { name: 'requests_per_minute', value: 5 },
      });
    });

    it('refills the request bucket over time', async () => {
      const req = request({ requestsPerMinute: 60 });
      await admitMany(backend, req, 60);
      assert.equal((await backend.admit(req)).admitted, false);
      clock.tick(999);
      assert.equal((await backend.admit(req)).admitted, false);
      clock.tick(1);
      assert.equal((await backend.admit(req)).admitted, true);
      assert.equal((await backend.admit(req)).admitted, false);
    });

    it('rejects past tokensPerMinute', async () => {
      const req = request({ tokensPerMinute: 1000 }, { tokens: 400 });
      const results = await admitMany(backend, req, 3);
      assert.equal(results.filter((result) => result.admitted).length, 2);
      const third = results[2];
      assert.equal(third?.admitted, false);
      assert.equal(third?.admitted === false && third.reason, 'tokens_per_minute');
      // 200 tokens left, 400 needed: 200 tokens at 1000 per minute take 12 s.
      assert.equal(third?.admitted === false && third.retryAfterSeconds, 12);
      assert.deepEqual(third?.admitted === false && third.limit, {
        name: 'tokens_per_minute',
        value: 1000,
      });
    });

    it('refills the token bucket over time', async () => {
      const req = request({ tokensPerMinute: 600 }, { tokens: 600 });
      assert.equal((await backend.admit(req)).admitted, true);
      clock.tick(59_999);
      assert.equal((await backend.admit(req)).admitted, false);
      clock.tick(1);
      assert.equal((await backend.admit(req)).admitted, true);
    });

    it('gives 60 s for a request larger than the token bucket', async () => {
      const result = await backend.admit(request({ tokensPerMinute: 100 }, { tokens: 101 }));
      assert.equal(result.admitted === false && result.retryAfterSeconds, 60);
    });

    it('caps in-flight tasks until one is released', async () => {
      const req = request({ maxInFlight: 2 });
      const [first] = await admitMany(backend, req, 2);
      const third = await backend.admit(req);
      assert.equal(third.admitted === false && third.reason, 'in_flight');
      assert.deepEqual(third.admitted === false && third.limit, {
        name: 'max_in_flight',
        value: 2,
      });
      assert.ok(first?.admitted);
      await backend.release(first.ticket);
      assert.equal((await backend.admit(req)).admitted, true);
      assert.equal((await backend.usage(BASE_TENANT)).inFlight, 2);
    });

    it('replaces the reservation with the actual cost on settle', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 1,
        reservedUsd: 0.5,
        spentUsd: 0,
      });
      assert.equal(
        (await backend.settle(admission.ticket, { run: 1, spentUsd: 0.25 })).outcome,
        'applied',
      );
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0.25,
      });
    });

    it('charges spend while the ticket stays open', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      assert.deepEqual(await backend.charge(admission.ticket, { run: 1, spentUsd: 0.125 }), {
        open: true,
        withinBudget: true,
      });
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 1,
        reservedUsd: 0.5,
        spentUsd: 0.125,
      });
      // The settle passes the run's whole spend and adds the part the charge left out.
      assert.equal(
        (await backend.settle(admission.ticket, { run: 1, spentUsd: 0.375 })).outcome,
        'applied',
      );
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0.375,
      });
    });

    it('reports a charge past the budget', async () => {
      const admission = await backend.admit(request({ budgetUsd: 1 }, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      assert.deepEqual(await backend.charge(admission.ticket, { run: 1, spentUsd: 0.5 }), {
        open: true,
        withinBudget: true,
      });
      assert.deepEqual(await backend.charge(admission.ticket, { run: 1, spentUsd: 0.75 }), {
        open: true,
        withinBudget: false,
      });
      assert.deepEqual(await backend.charge(admission.ticket, { run: 1, spentUsd: 0.75 }), {
        open: true,
        withinBudget: false,
      });
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.75);
    });

    it('keeps charged spend after a release', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.25 });
      assert.equal((await backend.release(admission.ticket)).outcome, 'applied');
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0.25,
      });
    });

    it('reports run charges on release', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await backend.charge(admission.ticket, { run: 2, spentUsd: 0.125 });
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.25 });
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.0625 });
      assert.deepEqual(await backend.release(admission.ticket), {
        outcome: 'applied',
        runs: [
          { run: 1, spentUsd: 0.25 },
          { run: 2, spentUsd: 0.125 },
        ],
      });
    });

    it('charges nothing to a closed ticket', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await backend.settle(admission.ticket, { run: 1, spentUsd: 0.125 });
      assert.deepEqual(await backend.charge(admission.ticket, { run: 1, spentUsd: 0.25 }), {
        open: false,
        withinBudget: true,
      });
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.125);
    });

    it('rejects a negative charge', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await assert.rejects(
        backend.charge(admission.ticket, { run: 1, spentUsd: -1 }),
        isAdmissionInputError,
      );
    });

    it('rejects a run number below 1 or not whole', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await assert.rejects(
        backend.charge(admission.ticket, { run: 0, spentUsd: 0.25 }),
        /run must be a whole number >= 1, such as a delivery's number, got 0/,
      );
      await assert.rejects(
        backend.settle(admission.ticket, { run: 1.5, spentUsd: 0.25 }),
        isAdmissionInputError,
      );
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 1,
        reservedUsd: 0.5,
        spentUsd: 0,
      });
    });

    it('takes a repeated charge of a run once', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.125 });
      // The same charge again, as after a reply that was lost.
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.125 });
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.125);
    });

    it('charges only the rise of a run spend', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.125 });
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.375 });
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.375);
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.25 });
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.375);
    });

    it('counts the charges of each run apart', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.125 });
      await backend.charge(admission.ticket, { run: 2, spentUsd: 0.25 });
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.375);
      // Run 2 settles its whole spend; run 1's charge stays spent.
      assert.equal(
        (await backend.settle(admission.ticket, { run: 2, spentUsd: 0.5 })).outcome,
        'applied',
      );
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.625);
    });

    it('settles after a lost charge reply without charging twice', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      // The charge is applied; its caller never learns it, so it settles the same spend.
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.25 });
      assert.equal(
        (await backend.settle(admission.ticket, { run: 1, spentUsd: 0.25 })).outcome,
        'applied',
      );
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0.25,
      });
    });

    it('settles a spend below the run charges with nothing more', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.5 });
      assert.equal(
        (await backend.settle(admission.ticket, { run: 1, spentUsd: 0.25 })).outcome,
        'applied',
      );
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.5);
    });

    it('reports each run charge on settle', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.125 });
      await backend.charge(admission.ticket, { run: 3, spentUsd: 0.25 });
      await backend.charge(admission.ticket, { run: 2, spentUsd: 0.5 });
      const settlement = await backend.settle(admission.ticket, { run: 2, spentUsd: 0.375 });
      assert.deepEqual(settlement, {
        outcome: 'applied',
        runs: [
          { run: 1, spentUsd: 0.125 },
          { run: 2, spentUsd: 0.5 },
          { run: 3, spentUsd: 0.25 },
        ],
      });
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.875);
    });

    it('charges earlier runs on settle', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      // Run 1's last charge reached 0.125 of its 0.375; run 3 never charged.
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.125 });
      const earlierRuns = [
        { run: 1, spentUsd: 0.375 },
        { run: 3, spentUsd: 0.125 },
      ];
      const settlement = await backend.settle(
        admission.ticket,
        { run: 2, spentUsd: 0.25 },
        earlierRuns,
      );
      assert.deepEqual(settlement.runs, [
        { run: 1, spentUsd: 0.375 },
        { run: 2, spentUsd: 0.25 },
        { run: 3, spentUsd: 0.125 },
      ]);
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0.75,
      });
    });

    it('keeps a higher charge of an earlier run', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.5 });
      const settlement = await backend.settle(admission.ticket, { run: 2, spentUsd: 0.25 }, [
        { run: 1, spentUsd: 0.125 },
      ]);
      assert.deepEqual(settlement.runs, [
        { run: 1, spentUsd: 0.5 },
        { run: 2, spentUsd: 0.25 },
      ]);
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.75);
    });

    it('reports run charges exactly', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.1 });
      await backend.charge(admission.ticket, { run: 3, spentUsd: 1e-7 });
      const settlement = await backend.settle(admission.ticket, { run: 4, spentUsd: 0.2 }, [
        { run: 2, spentUsd: 0.30000000000000004 },
      ]);
      assert.deepEqual(settlement.runs, [
        { run: 1, spentUsd: 0.1 },
        { run: 2, spentUsd: 0.30000000000000004 },
        { run: 3, spentUsd: 1e-7 },
        { run: 4, spentUsd: 0.2 },
      ]);
    });

    it('charges no earlier run of a closed ticket', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await backend.settle(admission.ticket, { run: 1, spentUsd: 0.125 });
      const late = await backend.settle(admission.ticket, { run: 2, spentUsd: 0.25 }, [
        { run: 1, spentUsd: 0.5 },
      ]);
      assert.deepEqual(late, { outcome: 'already_closed', runs: [] });
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.125);
    });

    it('rejects an invalid earlier run', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      await assert.rejects(
        backend.settle(admission.ticket, { run: 2, spentUsd: 0.25 }, [{ run: 0, spentUsd: 0.5 }]),
        /run must be a whole number >= 1, such as a delivery's number, got 0/,
      );
      await assert.rejects(
        backend.settle(admission.ticket, { run: 2, spentUsd: 0.25 }, [{ run: 1, spentUsd: -1 }]),
        isAdmissionInputError,
      );
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 1,
        reservedUsd: 0.5,
        spentUsd: 0,
      });
    });

    it('refunds the reservation on release', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      assert.deepEqual(await backend.release(admission.ticket), { outcome: 'applied', runs: [] });
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0,
      });
    });

    it('closes expired tickets at the next admission', async () => {
      const req = request({ maxInFlight: 1, requestsPerMinute: 100 }, { maxCostUsd: 0.5 });
      const stale = await backend.admit(req);
      assert.ok(stale.admitted);
      clock.tick(TICKET_TTL_SECONDS * 1000 - 1);
      const blocked = await backend.admit(req);
      assert.equal(blocked.admitted === false && blocked.reason, 'in_flight');

      clock.tick(1);
      const next = await backend.admit(req);
      assert.ok(next.admitted);
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 1,
        reservedUsd: 0.5,
        spentUsd: 0,
      });
      // A late settle of the expired ticket charges nothing and frees nothing.
      assert.equal(
        (await backend.settle(stale.ticket, { run: 1, spentUsd: 0.25 })).outcome,
        'already_closed',
      );
      assert.equal((await backend.usage(BASE_TENANT)).inFlight, 1);
      assert.equal(
        (await backend.settle(next.ticket, { run: 1, spentUsd: 0.25 })).outcome,
        'applied',
      );
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0.25,
      });
    });

    it('never reports a negative reservation', async () => {
      const expiring = await backend.admit(request({}, { maxCostUsd: 0.1 }));
      clock.tick(1_000);
      const unexpired = await backend.admit(request({}, { maxCostUsd: 0.2 }));
      clock.tick(TICKET_TTL_SECONDS * 1000 - 1_000);
      // This admission closes the first ticket, which expired, and keeps the second.
      const last = await backend.admit(request({}, { maxCostUsd: 0.1 }));
      assert.ok(expiring.admitted);
      assert.ok(unexpired.admitted);
      assert.ok(last.admitted);
      await backend.release(unexpired.ticket);
      await backend.release(last.ticket);
      const usage = await backend.usage(BASE_TENANT);
      assert.equal(usage.inFlight, 0);
      assert.ok(usage.reservedUsd >= 0, `reservedUsd ${usage.reservedUsd} < 0`);
      assert.ok(usage.reservedUsd < 1e-9, `reservedUsd ${usage.reservedUsd} left over`);
    });

    it('settles a ticket only once', async () => {
      const admission = await backend.admit(request({}, { maxCostUsd: 0.5 }));
      assert.ok(admission.admitted);
      const spend = { run: 1, spentUsd: 0.25 };
      assert.equal((await backend.settle(admission.ticket, spend)).outcome, 'applied');
      assert.equal((await backend.settle(admission.ticket, spend)).outcome, 'already_closed');
      assert.deepEqual(await backend.release(admission.ticket), {
        outcome: 'already_closed',
        runs: [],
      });
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0.25,
      });
    });

    it('rejects past the budget until a settle frees it', async () => {
      const req = request({ budgetUsd: 1 }, { maxCostUsd: 0.6 });
      const first = await backend.admit(req);
      const second = await backend.admit(req);
      assert.deepEqual(second, {
        admitted: false,
        reason: 'budget',
        retryAfterSeconds: 60,
        status: 429,
        limit: { name: 'budget_usd', value: 1 },
        fitsAfterReservations: true,
      });
      assert.ok(first.admitted);
      await backend.settle(first.ticket, { run: 1, spentUsd: 0.25 });
      assert.equal((await backend.admit(req)).admitted, true);
    });

    it('says when no reservation holds the budget', async () => {
      const req = request({ budgetUsd: 1 }, { maxCostUsd: 0.5 });
      const first = await backend.admit(req);
      assert.ok(first.admitted);
      await backend.settle(first.ticket, { run: 1, spentUsd: 0.75 });
      const rejected = await backend.admit(req);
      assert.equal(rejected.admitted === false && rejected.reason, 'budget');
      assert.equal(rejected.admitted === false && rejected.fitsAfterReservations, false);
    });

    it('says when freeing reservations leaves no room', async () => {
      // 0.95 spent and 0.04 reserved of 1: even with the reservation freed, 0.1 does not fit.
      const spent = await backend.admit(request({ budgetUsd: 1 }, { maxCostUsd: 0.5 }));
      assert.ok(spent.admitted);
      await backend.settle(spent.ticket, { run: 1, spentUsd: 0.95 });
      const running = await backend.admit(request({ budgetUsd: 1 }, { maxCostUsd: 0.04 }));
      assert.ok(running.admitted);
      const rejected = await backend.admit(request({ budgetUsd: 1 }, { maxCostUsd: 0.1 }));
      assert.equal(rejected.admitted === false && rejected.reason, 'budget');
      assert.equal(rejected.admitted === false && rejected.fitsAfterReservations, false);
    });

    it('takes nothing from any limit when one rejects', async () => {
      const overBudget = request({ requestsPerMinute: 2, budgetUsd: 0 }, { maxCostUsd: 1 });
      const rejected = await admitMany(backend, overBudget, 5);
      assert.equal(rejected.filter((result) => result.admitted).length, 0);
      const free = request({ requestsPerMinute: 2, budgetUsd: 0 }, { maxCostUsd: 0 });
      const admitted = await admitMany(backend, free, 3);
      assert.equal(admitted.filter((result) => result.admitted).length, 2);
      assert.equal((await backend.usage(BASE_TENANT)).inFlight, 2);
    });

    it('admits 1 of 8 concurrent on a one-task budget', async () => {
      const req = request({ budgetUsd: 0.05 }, { maxCostUsd: 0.04 });
      const results = await Promise.all(Array.from({ length: 8 }, () => backend.admit(req)));
      assert.equal(results.filter((result) => result.admitted).length, 1);
      const reasons = results.flatMap((result) => (result.admitted ? [] : [result.reason]));
      assert.deepEqual(new Set(reasons), new Set(['budget']));
    });

    it('admits exactly the tasks a budget covers', async () => {
      // Ten reservations of 0.00003 add up to 0.00030000000000000003 in float arithmetic.
      const req = request({ budgetUsd: 0.0003 }, { maxCostUsd: 0.00003 });
      const results = await admitMany(backend, req, 11);
      assert.equal(results.filter((result) => result.admitted).length, 10);
      const last = results.at(-1);
      assert.equal(last?.admitted === false && last.reason, 'budget');
      assert.equal((await backend.usage(BASE_TENANT)).reservedUsd, 0.0003);
    });

    it('sums settled charges to the exact decimal', async () => {
      const req = request({ budgetUsd: 0.0003 }, { maxCostUsd: 0.00003 });
      for (const result of await admitMany(backend, req, 10)) {
        assert.ok(result.admitted);
        await backend.settle(result.ticket, { run: 1, spentUsd: 0.00003 });
      }
      assert.deepEqual(await backend.usage(BASE_TENANT), {
        inFlight: 0,
        reservedUsd: 0,
        spentUsd: 0.0003,
      });
      const rejected = await backend.admit(req);
      assert.equal(rejected.admitted === false && rejected.fitsAfterReservations, false);
    });

    it('rejects a nanodollar past the budget', async () => {
      const filling = await backend.admit(request({ budgetUsd: 0.0003 }, { maxCostUsd: 0.0003 }));
      assert.ok(filling.admitted);
      await backend.settle(filling.ticket, { run: 1, spentUsd: 0.0003 });
      const over = await backend.admit(request({ budgetUsd: 0.0003 }, { maxCostUsd: 1e-9 }));
      assert.equal(over.admitted === false && over.reason, 'budget');
      const free = await backend.admit(request({ budgetUsd: 0.0003 }, { maxCostUsd: 0 }));
      assert.equal(free.admitted, true);
    });

    it('raises a run charge to the exact decimal', async () => {
      const admission = await backend.admit(request({ budgetUsd: 0.00077 }, { maxCostUsd: 0 }));
      assert.ok(admission.admitted);
      // A gpt-4o run charges its 104 input tokens, 0.00026, then adds 51 output tokens.
      // 0.00026 + (0.00077 - 0.00026) is 0.0007700000000000001 in float arithmetic.
      await backend.charge(admission.ticket, { run: 1, spentUsd: 0.00026 });
      assert.deepEqual(await backend.charge(admission.ticket, { run: 1, spentUsd: 0.00077 }), {
        open: true,
        withinBudget: true,
      });
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.00077);
      // 0.00077 + 0.00026 is 0.0010299999999999999 in float arithmetic.
      await backend.settle(admission.ticket, { run: 2, spentUsd: 0.00026 });
      assert.equal((await backend.usage(BASE_TENANT)).spentUsd, 0.00103);
    });

    it('rejects a negative token estimate', async () => {
      await assert.rejects(backend.admit(request({}, { tokens: -1 })), isAdmissionInputError);
    });
  });
}
