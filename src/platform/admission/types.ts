import type { TenantLimits } from '../tenants/tenant.js';

/** Reason a request was not admitted, named after the limit that was reached. */
export type RejectionReason =
  'requests_per_minute' | 'tokens_per_minute' | 'in_flight' | 'budget' | 'backpressure';

/** A limit named in a rejection, such as `{ name: 'requests_per_minute', value: 60 }`. */
export interface LimitDescriptor {
  name: string;
  value: number;
}

export interface Rejection {
  admitted: false;
  reason: RejectionReason;
  /** Whole seconds, at least 1, for the `Retry-After` header. */
  retryAfterSeconds: number;
  status: 429 | 503;
  limit: LimitDescriptor;
  /**
   * Budget rejections only: whether the task would fit once running tasks free their
   * reservations, which they do when they settle and spend less. When it would not, a
   * retry cannot pass until the budget is raised.
   */
  fitsAfterReservations?: boolean;
  /**
   * Budget rejections of a `day` or `month` budget only: whole seconds, at least 1, until
   * the budget period ends and its spend resets. Absent when the task's reservation is
   * above the whole `budgetUsd`, which no period admits.
   */
  budgetResetSeconds?: number;
  /**
   * Budget rejections only: the cost in US dollars that the task asked to reserve, which
   * the gateway names in its message. Admission backends leave it out.
   */
  reservationUsd?: number;
}

/** Proof of admission, to pass to `settle` or `release` once. */
export interface AdmissionTicket {
  id: string;
  tenantId: string;
  /** Cost reserved against the tenant's budget until the ticket settles, in US dollars. */
  reservedUsd: number;
  /** Tokens taken from the token bucket. */
  tokens: number;
}

export interface Admission {
  admitted: true;
  ticket: AdmissionTicket;
}

export type AdmissionResult = Admission | Rejection;

/** One admission decision to make. */
export interface AdmissionRequest {
  tenant: TenantLimits;
  /** Estimated input tokens plus `maxOutputTokens`. */
  tokens: number;
  /**
   * Maximum cost of the task in US dollars: its tokens at the price of the
   * route's most expensive candidate model. Reserved until settle or release.
   */
  maxCostUsd: number;
  /** Id of the ticket to open, so that a caller can close it after a lost reply. @defaultValue a random UUID */
  ticketId?: string;
}

/** `applied` when the ticket was open, `already_closed` when it had settled or been released. */
export type TicketOutcome = 'applied' | 'already_closed';

/** Result of charging spend to an open ticket. */
export interface ChargeOutcome {
  /** False when the ticket had settled, been released or expired; nothing was charged. */
  open: boolean;
  /**
   * True when the spend plus reservations of the ticket's budget period still fit the
   * `budgetUsd` of that period's last admission.
   */
  withinBudget: boolean;
}

/** The spend so far of one run of a ticket's task. */
export interface RunSpend {
  /**
   * The run: a queue delivery's number, from 1, or 1 for a task that runs once.
   * Each run's charges are counted apart.
   */
  run: number;
  /** Spend of the run so far, in US dollars. */
  spentUsd: number;
}

/** Result of closing a ticket with `settle` or `release`. */
export interface Settlement {
  outcome: TicketOutcome;
  /**
   * Spend the ticket took for each run of its task when it closed, the settled run
   * included, in run order. Empty when the ticket was already closed.
   */
  runs: RunSpend[];
}

/**
 * A tenant as `usage` reads it: its id and its configured budget period, `total` when
 * `budgetPeriod` is absent.
 */
export type UsageTenant = Pick<TenantLimits, 'id' | 'budgetPeriod'>;

/**
 * A tenant's counters as the backend stores them: its tasks in flight, and the spend and
 * reservations of its current budget period. A reservation that an earlier period made
 * counts in that period, not here, though its task counts in `inFlight`.
 */
export interface TenantUsage {
  inFlight: number;
  reservedUsd: number;
  spentUsd: number;
}

/**
 * Decides admission for tenants: request and token buckets, an in-flight cap
 * and a budget, checked and taken together in one atomic step. A ticket belongs to
 * the budget period that admitted it: its reservation and every charge of its task
 * count in that period, even when it settles after the period ended.
 */
export interface AdmissionBackend {
  admit(request: AdmissionRequest): Promise<AdmissionResult>;
  /**
   * Replaces the ticket's reservation with the run's actual cost and frees its
   * in-flight slot. What `charge` already took for the same run is left out, so a
   * settle after a charge whose reply was lost does not charge it twice. Each run in
   * `earlierRuns`, such as a delivery that went back to the queue, is first charged up
   * to its spend, as `charge` does. Returns what the ticket took for each run.
   * NOTE: tokens taken at admission stay taken, even when the task used fewer than estimated.
   */
  settle(
    ticket: AdmissionTicket,
    spend: RunSpend,
    earlierRuns?: readonly RunSpend[],
  ): Promise<Settlement>;
  /**
   * Charges what one run of an open ticket's task spent so far, such as a provider
   * attempt that failed after streaming tokens, and reports whether the tenant's
   * budget still covers its spend and reservations. The charge raises what the
   * ticket took for that run to `spend.spentUsd`: a repeated or lower value adds
   * nothing, so a charge sent again after a lost reply is taken once. The
   * reservation stays until settle. The executor calls it before a retry, so the
   * budget is checked before every provider call.
   */
  charge(ticket: AdmissionTicket, spend: RunSpend): Promise<ChargeOutcome>;
  /**
   * Refunds the ticket's reservation and frees its in-flight slot; what `charge`
   * took stays spent, and the result reports it for each run.
   */
  release(ticket: AdmissionTicket): Promise<Settlement>;
  /**
   * Reads the tenant's in-flight count and the spend and reservations of the current
   * period of its configured `budgetPeriod`.
   */
  usage(tenant: UsageTenant): Promise<TenantUsage>;
  /** Reads the usage of each tenant, as `usage` does, in one read; results are in input order. */
  usageOf(tenants: readonly UsageTenant[]): Promise<TenantUsage[]>;
  close(): Promise<void>;
}
