import type { AdmissionTicket, ChargeOutcome } from '../admission/types.js';
import { RouterError } from '../router/router-errors.js';

/** The charge side of admission; an AdmissionBackend fits. */
export interface TicketCharger {
  charge(ticket: AdmissionTicket, costUsd: number): Promise<ChargeOutcome>;
}

/**
 * Charges one delivery's spend to its task's admission ticket as it happens, and
 * stops provider calls the tenant's budget no longer covers. Admission reserved
 * the first call of each step; a retry or a redelivery checks the budget first.
 */
export class TicketSpend {
  readonly #admission: TicketCharger;
  readonly #ticket: AdmissionTicket;
  #chargedUsd = 0;

  constructor(admission: TicketCharger, ticket: AdmissionTicket) {
    this.#admission = admission;
    this.#ticket = ticket;
  }

  /** Spend this object charged to the ticket, in US dollars. */
  get chargedUsd(): number {
    return this.#chargedUsd;
  }

  /**
   * Charges the part of `spentUsd`, this delivery's whole spend, that is not charged
   * yet, without checking the budget: the money is spent either way, and the next
   * delivery checks before its first call.
   */
  async chargeRest(spentUsd: number): Promise<void> {
    const rest = spentUsd - this.#chargedUsd;
    if (rest <= 0) return;
    const outcome = await this.#admission.charge(this.#ticket, rest);
    if (outcome.open) this.#chargedUsd += rest;
  }

  /**
   * Charges `costUsd`, which may be 0, then checks the budget. A closed or expired
   * ticket charges nothing and passes.
   * @throws RouterError `budget_exhausted` when the tenant's spend and reservations
   *   pass its budget, so the next provider call must not be made.
   */
  async charge(costUsd: number): Promise<void> {
    const outcome = await this.#admission.charge(this.#ticket, costUsd);
    if (!outcome.open) return;
    this.#chargedUsd += costUsd;
    if (!outcome.withinBudget) {
      throw new RouterError(
        'budget_exhausted',
        `budget_usd of tenant ${this.#ticket.tenantId} is spent, so the task makes no more provider calls; raise budgetUsd in the tenants file`,
      );
    }
  }
}
