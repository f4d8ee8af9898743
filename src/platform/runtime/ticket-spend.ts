import type { AdmissionTicket, ChargeOutcome, RunSpend } from '../admission/types.js';
import { addUsd } from '../cost/usd.js';
import { RouterError } from '../router/router-errors.js';
import type { TaskRunContext } from './task-runner.js';

/** Retry-After of a task stopped by its budget, as admission's budget rejection defaults to. */
const BUDGET_RETRY_AFTER_SECONDS = 60;

/** The charge side of admission; an AdmissionBackend fits. */
export interface TicketCharger {
  charge(ticket: AdmissionTicket, spend: RunSpend): Promise<ChargeOutcome>;
}

/**
 * Charges one run's spend to its task's admission ticket as it happens, and
 * stops provider calls the tenant's budget no longer covers. A run is a queue
 * delivery, or the only run of a sync task. Admission reserved the first call of
 * each step; a retry or a redelivery checks the budget first. Each charge raises
 * what the ticket took for this run to the run's spend so far. A charge that
 * fails, as when Redis times out, lets the call go ahead, and the next charge or
 * the settle takes its spend. A charge that Redis applied but whose reply was
 * lost is not taken twice.
 */
export class TicketSpend {
  readonly ticket: AdmissionTicket;
  /** The run's number, which keeps its charges apart from other runs' of the task. */
  readonly run: number;
  readonly #admission: TicketCharger;
  readonly #onError: ((error: unknown, ticket: AdmissionTicket) => void) | undefined;
  /** The run's spend so far, as the last charge sent it. */
  #spentUsd = 0;
  /** The run's spend as the last charge that reached the ticket took it. */
  #chargedUsd = 0;

  constructor(
    admission: TicketCharger,
    ticket: AdmissionTicket,
    run: number,
    onError?: (error: unknown, ticket: AdmissionTicket) => void,
  ) {
    this.#admission = admission;
    this.ticket = ticket;
    this.run = run;
    this.#onError = onError;
  }

  /** The run's spend as the last charge that reached the ticket took it. */
  get chargedUsd(): number {
    return this.#chargedUsd;
  }

  /** Returns the task run hooks that charge through this object. */
  runHooks(): Pick<TaskRunContext, 'beforeRetry' | 'afterStep'> {
    return {
      beforeRetry: (costUsd) => this.charge(costUsd),
      afterStep: (spentUsd) => this.chargeRest(spentUsd),
    };
  }

  /**
   * Charges `spentUsd`, the run's spend so far, when the ticket has not taken it
   * yet, without checking the budget: the money is spent either way, and the next
   * call checks before it starts.
   * When the last charge of a run that the queue retries fails, the task record still
   * keeps the run's cost, and the settle that closes the ticket charges the rest, also
   * when the queue fails the task without another run.
   */
  async chargeRest(spentUsd: number): Promise<void> {
    if (spentUsd <= this.#chargedUsd) return;
    this.#spentUsd = Math.max(this.#spentUsd, spentUsd);
    await this.#tryCharge();
  }

  /**
   * Adds `costUsd`, which may be 0, to the run's spend and charges it, then checks
   * the budget. A closed or expired ticket charges nothing and passes.
   * @throws RouterError `budget_exhausted` when the spend and reservations of the budget
   *   period that admitted the ticket pass the tenant's budget, so the next provider call
   *   must not be made.
   */
  async charge(costUsd: number): Promise<void> {
    this.#spentUsd = addUsd(this.#spentUsd, costUsd);
    const outcome = await this.#tryCharge();
    if (outcome === undefined || !outcome.open) return;
    if (!outcome.withinBudget) {
      throw new RouterError(
        'budget_exhausted',
        `budget_usd of tenant ${this.ticket.tenantId} does not cover another provider call on top of the spend and reservations of the budget period that admitted this task; retry after ${BUDGET_RETRY_AFTER_SECONDS} s, when running tasks may have freed their reservations, or raise budgetUsd in the tenants file`,
        { retryAfterMs: BUDGET_RETRY_AFTER_SECONDS * 1000 },
      );
    }
  }

  /** Charges the run's spend so far; returns undefined when the charge failed, after reporting it. */
  async #tryCharge(): Promise<ChargeOutcome | undefined> {
    const spentUsd = this.#spentUsd;
    try {
      const outcome = await this.#admission.charge(this.ticket, { run: this.run, spentUsd });
      if (outcome.open) this.#chargedUsd = Math.max(this.#chargedUsd, spentUsd);
      return outcome;
    } catch (error) {
      this.#onError?.(error, this.ticket);
      return undefined;
    }
  }
}
