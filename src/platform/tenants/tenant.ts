import type { PriorityClass } from '../task.js';

/** Limits that admission enforces for one tenant. */
export interface TenantLimits {
  id: string;
  requestsPerMinute: number;
  /** Estimated input plus maximum output tokens admitted per minute. */
  tokensPerMinute: number;
  maxInFlight: number;
  /** Total spend allowed, in US dollars, over the life of the admission store. */
  budgetUsd: number;
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
