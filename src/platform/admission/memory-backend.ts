import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../clock.js';
import { addUsd, roundUsd } from '../cost/usd.js';
import {
  checkRunSpend,
  decide,
  initialState,
  type PeriodSpend,
  type TenantState,
  tenantRejection,
  validateRequest,
  withinBudget,
} from './decision.js';
import { budgetPeriodOf, periodAt } from './budget-period.js';
import { type AdmissionOptions, resolveAdmissionOptions } from './options.js';
import type {
  AdmissionBackend,
  AdmissionRequest,
  AdmissionResult,
  AdmissionTicket,
  ChargeOutcome,
  RunSpend,
  Settlement,
  TenantUsage,
  UsageTenant,
} from './types.js';

export interface MemoryAdmissionOptions extends AdmissionOptions {
  /** @defaultValue systemClock */
  clock?: Clock;
}

/** A tenant's bucket levels and in-flight count, without the spend of any period. */
type BucketState = Omit<TenantState, keyof PeriodSpend>;

/** Spend of one budget period, with the `budgetUsd` of the period's last admission. */
interface PeriodLedger extends PeriodSpend {
  budgetUsd: number;
}

/**
 * Admission state in this process's memory. Each call runs to completion
 * without awaiting, so decisions are atomic within one process. Use the
 * Redis backend when several gateway processes share tenants.
 */
export class MemoryAdmissionBackend implements AdmissionBackend {
  readonly #clock: Clock;
  readonly #budgetRetryAfterSeconds: number;
  readonly #ticketTtlMs: number;
  readonly #buckets = new Map<string, BucketState>();
  /** Spend of each budget period, by tenant id and then by period key. */
  readonly #spend = new Map<string, Map<string, PeriodLedger>>();
  /** Key of each tenant's budget period at its last admission. */
  readonly #currentPeriods = new Map<string, string>();
  /**
   * Open tickets per tenant, oldest first: every ticket gets the same TTL on the
   * monotonic clock, so they expire in the order they opened.
   */
  readonly #openTickets = new Map<string, Map<string, OpenTicket>>();

  constructor(options: MemoryAdmissionOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    const resolved = resolveAdmissionOptions(options);
    this.#budgetRetryAfterSeconds = resolved.budgetRetryAfterSeconds;
    this.#ticketTtlMs = resolved.ticketTtlSeconds * 1000;
  }

  async admit(request: AdmissionRequest): Promise<AdmissionResult> {
    validateRequest(request);
    const now = this.#clock.now();
    const { tenant } = request;
    const period = periodAt(budgetPeriodOf(tenant), now).key;
    const monotonic = this.#clock.monotonic();
    this.#closeExpired(tenant.id, monotonic);
    this.#startPeriod(tenant.id, period);
    const spend = this.#periodSpend(tenant.id, period);
    const buckets = this.#buckets.get(tenant.id) ?? initialState(tenant, now);
    const state: TenantState = {
      ...buckets,
      reservedUsd: spend.reservedUsd,
      spentUsd: spend.spentUsd,
    };
    const decision = decide(state, request, now, this.#budgetRetryAfterSeconds);
    if (!decision.admitted) {
      return tenantRejection(decision, request, now);
    }
    const { reservedUsd, spentUsd, ...next } = decision.next;
    this.#buckets.set(tenant.id, next);
    spend.reservedUsd = reservedUsd;
    spend.spentUsd = spentUsd;
    spend.budgetUsd = tenant.budgetUsd;
    const ticket: AdmissionTicket = {
      id: request.ticketId ?? randomUUID(),
      tenantId: tenant.id,
      reservedUsd: request.maxCostUsd,
      tokens: request.tokens,
    };
    let open = this.#openTickets.get(tenant.id);
    if (open === undefined) {
      open = new Map();
      this.#openTickets.set(tenant.id, open);
    }
    const expiresAt = monotonic + this.#ticketTtlMs;
    const runCharges = new Map<number, number>();
    open.set(ticket.id, { reservedUsd: ticket.reservedUsd, period, expiresAt, runCharges });
    return { admitted: true, ticket };
  }

  async charge(ticket: AdmissionTicket, spend: RunSpend): Promise<ChargeOutcome> {
    checkRunSpend(spend);
    const open = this.#openTickets.get(ticket.tenantId)?.get(ticket.id);
    if (open === undefined) return { open: false, withinBudget: true };
    const periodSpend = this.#periodSpend(ticket.tenantId, open.period);
    raiseRunCharge(open, periodSpend, spend);
    return { open: true, withinBudget: withinBudget(periodSpend, periodSpend.budgetUsd) };
  }

  async settle(
    ticket: AdmissionTicket,
    spend: RunSpend,
    earlierRuns: readonly RunSpend[] = [],
  ): Promise<Settlement> {
    checkRunSpend(spend);
    for (const earlier of earlierRuns) checkRunSpend(earlier);
    const open = this.#openTickets.get(ticket.tenantId)?.get(ticket.id);
    if (open === undefined) return { outcome: 'already_closed', runs: [] };
    const periodSpend = this.#periodSpend(ticket.tenantId, open.period);
    for (const earlier of earlierRuns) raiseRunCharge(open, periodSpend, earlier);
    raiseRunCharge(open, periodSpend, spend);
    this.#close(ticket.tenantId, ticket.id, open);
    return { outcome: 'applied', runs: runChargesOf(open) };
  }

  async release(ticket: AdmissionTicket): Promise<Settlement> {
    const open = this.#openTickets.get(ticket.tenantId)?.get(ticket.id);
    if (open === undefined) return { outcome: 'already_closed', runs: [] };
    this.#close(ticket.tenantId, ticket.id, open);
    return { outcome: 'applied', runs: runChargesOf(open) };
  }

  async usage(tenant: UsageTenant): Promise<TenantUsage> {
    const [usage] = await this.usageOf([tenant]);
    return usage ?? { inFlight: 0, reservedUsd: 0, spentUsd: 0 };
  }

  async usageOf(tenants: readonly UsageTenant[]): Promise<TenantUsage[]> {
    const now = this.#clock.now();
    return tenants.map((tenant) => {
      const period = periodAt(budgetPeriodOf(tenant), now).key;
      const spend = this.#spend.get(tenant.id)?.get(period);
      return {
        inFlight: this.#buckets.get(tenant.id)?.inFlight ?? 0,
        reservedUsd: spend?.reservedUsd ?? 0,
        spentUsd: spend?.spentUsd ?? 0,
      };
    });
  }

  async close(): Promise<void> {
    this.#openTickets.clear();
  }

  /**
   * Returns the spend of the tenant's period, adding an empty one when it has none yet. A
   * period that no admission has opened has no budget to exceed.
   */
  #periodSpend(tenantId: string, period: string): PeriodLedger {
    let periods = this.#spend.get(tenantId);
    if (periods === undefined) {
      periods = new Map();
      this.#spend.set(tenantId, periods);
    }
    let spend = periods.get(period);
    if (spend === undefined) {
      spend = { reservedUsd: 0, spentUsd: 0, budgetUsd: Number.POSITIVE_INFINITY };
      periods.set(period, spend);
    }
    return spend;
  }

  /**
   * Records `period` as the tenant's current one. When it changed, drops the spend of
   * earlier periods that no open ticket still settles into.
   */
  #startPeriod(tenantId: string, period: string): void {
    if (this.#currentPeriods.get(tenantId) === period) return;
    this.#currentPeriods.set(tenantId, period);
    const periods = this.#spend.get(tenantId);
    if (periods === undefined) return;
    const inUse = new Set([period]);
    for (const open of this.#openTickets.get(tenantId)?.values() ?? []) inUse.add(open.period);
    for (const key of periods.keys()) {
      if (!inUse.has(key)) periods.delete(key);
    }
  }

  /** Closes the open ticket and frees its slot and reservation. Its charges stay spent. */
  #close(tenantId: string, ticketId: string, open: OpenTicket): void {
    this.#openTickets.get(tenantId)?.delete(ticketId);
    this.#freeSlot(tenantId, open);
  }

  /** Closes the tenant's tickets whose TTL ran out, without a charge. */
  #closeExpired(tenantId: string, now: number): void {
    const open = this.#openTickets.get(tenantId);
    if (open === undefined) return;
    for (const [id, ticket] of open) {
      if (ticket.expiresAt > now) return;
      open.delete(id);
      this.#freeSlot(tenantId, ticket);
    }
  }

  /** Frees the ticket's in-flight slot and its reservation in the period that admitted it. */
  #freeSlot(tenantId: string, open: OpenTicket): void {
    const buckets = this.#buckets.get(tenantId);
    if (buckets !== undefined) buckets.inFlight -= 1;
    const spend = this.#periodSpend(tenantId, open.period);
    spend.reservedUsd = Math.max(0, roundUsd(spend.reservedUsd - open.reservedUsd));
  }
}

interface OpenTicket {
  reservedUsd: number;
  /** Key of the budget period that admitted the ticket, which its spend counts in. */
  period: string;
  /** Expiry time on the clock's monotonic time. */
  expiresAt: number;
  /** Spend charged so far for each run of the ticket's task, by run number. */
  runCharges: Map<number, number>;
}

/** Raises what the ticket took for the run to its spend, adding the rise to the period's spend. */
function raiseRunCharge(open: OpenTicket, state: PeriodSpend, spend: RunSpend): void {
  const charged = open.runCharges.get(spend.run) ?? 0;
  if (spend.spentUsd <= charged) return;
  open.runCharges.set(spend.run, spend.spentUsd);
  state.spentUsd = addUsd(state.spentUsd, roundUsd(spend.spentUsd - charged));
}

/** Returns what the ticket took for each run, in run order. */
function runChargesOf(open: OpenTicket): RunSpend[] {
  const runs = [...open.runCharges].map(([run, spentUsd]) => ({ run, spentUsd }));
  return runs.sort((a, b) => a.run - b.run);
}
