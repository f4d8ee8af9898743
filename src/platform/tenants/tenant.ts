import type { PriorityClass } from '../task.js';

/** Spans over which a tenant's spend counts against its `budgetUsd`. */
export const BUDGET_PERIODS = ['total', 'day', 'month'] as const;

/**
 * Span over which spend counts against `budgetUsd`: `total` never resets, `day` resets at
 * 00:00 UTC and `month` at 00:00 UTC on the 1st.
 */
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** Limits that admission enforces for one tenant. */
export interface TenantLimits {
  id: string;
  requestsPerMinute: number;
  /** Estimated input plus maximum output tokens admitted per minute. */
  tokensPerMinute: number;
  maxInFlight: number;
  /**
   * Spend allowed per `budgetPeriod`, in US dollars. A task's whole spend counts in the
   * period that admitted it, even when it settles in the next one.
   */
  budgetUsd: number;
  /**
   * Period of `budgetUsd`. With `total`, the budget covers the life of the admission store.
   * @defaultValue 'total'
   */
  budgetPeriod?: BudgetPeriod;
}

/** A tenant as configured in the tenants file. */
export interface Tenant extends TenantLimits {
  /** Hex sha256 of the tenant's API key. The tenants file never contains the plaintext key. */
  keySha256: string;
  /** Highest priority class the tenant may send, and the class of tasks that name none. */
  tier: PriorityClass;
  /**
   * Async tasks of the tenant that run at once across every worker; the rest wait in the
   * queue. Absent for no cap beyond `maxInFlight`.
   */
  maxRunning?: number;
}
