import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../clock.js';
import { addUsd, roundUsd } from '../cost/usd.js';
import {
  checkRunSpend,
  decide,
  initialState,
  type TenantState,
  tenantRejection,
  validateRequest,
  withinBudget,
} from './decision.js';
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
} from './types.js';

export interface MemoryAdmissionOptions extends AdmissionOptions {
  /** @defaultValue systemClock */
  clock?: Clock;
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
  readonly #states = new Map<string, TenantState>();
  /**
   * Open tickets per tenant, oldest first: every ticket gets the same TTL on the
   * monotonic clock, so they expire in the order they opened.
   */
  readonly #openTickets = new Map<string, Map<string, OpenTicket>>();
  /** Each tenant's budget as of its last admission, which `charge` checks against. */
  readonly #budgets = new Map<string, number>();

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
    const state = this.#states.get(tenant.id) ?? initialState(tenant, now);
    const monotonic = this.#clock.monotonic();
    this.#closeExpired(tenant.id, state, monotonic);
    const decision = decide(state, request, now, this.#budgetRetryAfterSeconds);
    if (!decision.admitted) {
      return tenantRejection(decision, tenant);
    }
    this.#states.set(tenant.id, decision.next);
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
    open.set(ticket.id, { reservedUsd: ticket.reservedUsd, expiresAt, runCharges: new Map() });
    this.#budgets.set(tenant.id, tenant.budgetUsd);
    return { admitted: true, ticket };
  }

  async charge(ticket: AdmissionTicket, spend: RunSpend): Promise<ChargeOutcome> {
    checkRunSpend(spend);
    const open = this.#openTickets.get(ticket.tenantId)?.get(ticket.id);
    const state = this.#states.get(ticket.tenantId);
    if (open === undefined || state === undefined) return { open: false, withinBudget: true };
    raiseRunCharge(open, state, spend);
    const budget = this.#budgets.get(ticket.tenantId) ?? Number.POSITIVE_INFINITY;
    return { open: true, withinBudget: withinBudget(state, budget) };
  }

  async settle(
    ticket: AdmissionTicket,
    spend: RunSpend,
    earlierRuns: readonly RunSpend[] = [],
  ): Promise<Settlement> {
    checkRunSpend(spend);
    for (const earlier of earlierRuns) checkRunSpend(earlier);
    const open = this.#openTickets.get(ticket.tenantId)?.get(ticket.id);
    const state = this.#states.get(ticket.tenantId);
    if (open === undefined || state === undefined) return { outcome: 'already_closed', runs: [] };
    for (const earlier of earlierRuns) raiseRunCharge(open, state, earlier);
    raiseRunCharge(open, state, spend);
    this.#close(ticket, open, state);
    return { outcome: 'applied', runs: runChargesOf(open) };
  }

  async release(ticket: AdmissionTicket): Promise<Settlement> {
    const open = this.#openTickets.get(ticket.tenantId)?.get(ticket.id);
    const state = this.#states.get(ticket.tenantId);
    if (open === undefined || state === undefined) return { outcome: 'already_closed', runs: [] };
    this.#close(ticket, open, state);
    return { outcome: 'applied', runs: runChargesOf(open) };
  }

  async usage(tenantId: string): Promise<TenantUsage> {
    const state = this.#states.get(tenantId);
    return {
      inFlight: state?.inFlight ?? 0,
      reservedUsd: state?.reservedUsd ?? 0,
      spentUsd: state?.spentUsd ?? 0,
    };
  }

  async close(): Promise<void> {
    this.#openTickets.clear();
  }

  /** Closes the open ticket and frees its slot and reservation. Its charges stay spent. */
  #close(ticket: AdmissionTicket, open: OpenTicket, state: TenantState): void {
    this.#openTickets.get(ticket.tenantId)?.delete(ticket.id);
    freeSlot(state, open.reservedUsd);
  }

  /** Closes the tenant's tickets whose TTL ran out, without a charge. */
  #closeExpired(tenantId: string, state: TenantState, now: number): void {
    const open = this.#openTickets.get(tenantId);
    if (open === undefined) return;
    for (const [id, ticket] of open) {
      if (ticket.expiresAt > now) return;
      open.delete(id);
      freeSlot(state, ticket.reservedUsd);
    }
  }
}

interface OpenTicket {
  reservedUsd: number;
  /** Expiry time on the clock's monotonic time. */
  expiresAt: number;
  /** Spend charged so far for each run of the ticket's task, by run number. */
  runCharges: Map<number, number>;
}

/** Raises what the ticket took for the run to its spend, adding the rise to the tenant's spend. */
function raiseRunCharge(open: OpenTicket, state: TenantState, spend: RunSpend): void {
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

function freeSlot(state: TenantState, reservedUsd: number): void {
  state.inFlight -= 1;
  state.reservedUsd = Math.max(0, roundUsd(state.reservedUsd - reservedUsd));
}
