import type { AdmissionTicket, ChargeOutcome } from '../admission/types.js';
import { RouterError } from '../router/router-errors.js';
import type { TaskRunContext } from './task-runner.js';

/** Retry-After of a task stopped by its budget, as admission's budget rejection defaults to. */
const BUDGET_RETRY_AFTER_SECONDS = 60;

/** The charge side of admission; an AdmissionBackend fits. */
export interface TicketCharger {
  charge(ticket: AdmissionTicket, costUsd: number): Promise<ChargeOutcome>;
}

/**
 * Charges one delivery's spend to its task's admission ticket as it happens, and
 * stops provider calls the tenant's budget no longer covers. Admission reserved
 * the first call of each step; a retry or a redelivery checks the budget first.
 * A charge that fails, as when Redis times out, lets the call go ahead: the
 * delivery's settle then charges that spend with the rest of its run.
 */
export class TicketSpend {
  readonly #admission: TicketCharger;
  readonly #ticket: AdmissionTicket;
  readonly #onError: ((error: unknown, ticket: AdmissionTicket) => void) | undefined;
  #chargedUsd = 0;

  constructor(
    admission: TicketCharger,
    ticket: AdmissionTicket,
    onError?: (error: unknown, ticket: AdmissionTicket) => void,
  ) {
    this.#admission = admission;
    this.#ticket = ticket;
    this.#onError = onError;
  }

  /** Returns the task run hooks that charge through this object. */
  runHooks(): Pick<TaskRunContext, 'beforeRetry' | 'afterStep'> {
    return {
      beforeRetry: (spentUsd) => this.charge(spentUsd),
      afterStep: (spentUsd) => this.chargeRest(spentUsd),
    };
  }

  /** Spend this object charged to the ticket, in US dollars. */
  get chargedUsd(): number {
    return this.#chargedUsd;
  }

  /**
   * Charges the part of `spentUsd`, this delivery's spend so far, that is not
   * charged yet, without checking the budget: the money is spent either way, and
   * the next call checks before it starts.
   * NOTE: when this charge fails, the tenant's spend misses it for good. A later
   * delivery settles only its own run, though the task record keeps the cost.
   */
  async chargeRest(spentUsd: number): Promise<void> {
    const rest = spentUsd - this.#chargedUsd;
    if (rest <= 0) return;
    const outcome = await this.#tryCharge(rest);
    if (outcome?.open === true) this.#chargedUsd += rest;
  }

  /**
   * Charges `costUsd`, which may be 0, then checks the budget. A closed or expired
   * ticket charges nothing and passes.
   * @throws RouterError `budget_exhausted` when the tenant's spend and reservations
   *   pass its budget, so the next provider call must not be made.
   */
  async charge(costUsd: number): Promise<void> {
    const outcome = await this.#tryCharge(costUsd);
    if (outcome === undefined || !outcome.open) return;
    this.#chargedUsd += costUsd;
    if (!outcome.withinBudget) {
      throw new RouterError(
        'budget_exhausted',
        `budget_usd of tenant ${this.#ticket.tenantId} does not cover another provider call on top of its spend and the reservations of its running tasks; retry after ${BUDGET_RETRY_AFTER_SECONDS} s, when running tasks may have freed their reservations, or raise budgetUsd in the tenants file`,
        { retryAfterMs: BUDGET_RETRY_AFTER_SECONDS * 1000 },
      );
    }
  }

  /**
   * Charges `costUsd`; returns undefined when the charge failed, after reporting it.
   * NOTE: a charge that Redis applied but whose reply was lost counts as failed, so
   * the settle charges it again.
   */
  async #tryCharge(costUsd: number): Promise<ChargeOutcome | undefined> {
    try {
      return await this.#admission.charge(this.#ticket, costUsd);
    } catch (error) {
      this.#onError?.(error, this.#ticket);
      return undefined;
    }
  }
}
