/**
 * The admission rule shared by every backend. The Redis Lua script mirrors
 * these functions line for line, so both backends pass one conformance suite.
 */
import { addUsd } from '../cost/usd.js';
import { BUDGET_PERIODS, type TenantLimits } from '../tenants/tenant.js';
import { budgetPeriodOf, periodAt } from './budget-period.js';
import { AdmissionInputError } from './errors.js';
import type {
  AdmissionRequest,
  LimitDescriptor,
  Rejection,
  RejectionReason,
  RunSpend,
} from './types.js';

const MS_PER_MINUTE = 60_000;

/** Retry-After for an in-flight rejection: slots free when running tasks end, at no known time. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/** Spend and open reservations of one budget period, in US dollars. */
export interface PeriodSpend {
  reservedUsd: number;
  spentUsd: number;
}

/**
 * Counters of one tenant, with the spend of its current budget period. Bucket levels are
 * as of `updatedAt`.
 */
export interface TenantState extends PeriodSpend {
  requestLevel: number;
  tokenLevel: number;
  updatedAt: number;
  inFlight: number;
}

export type Decision =
  | { admitted: true; next: TenantState }
  | {
      admitted: false;
      reason: Exclude<RejectionReason, 'backpressure'>;
      retryAfterSeconds: number;
      /** Budget rejections only; see {@link Rejection.fitsAfterReservations}. */
      fitsAfterReservations?: boolean;
    };

export function initialState(tenant: TenantLimits, now: number): TenantState {
  return {
    requestLevel: tenant.requestsPerMinute,
    tokenLevel: tenant.tokensPerMinute,
    updatedAt: now,
    inFlight: 0,
    reservedUsd: 0,
    spentUsd: 0,
  };
}

/** Bucket level after refilling at `capacity` per minute from `since` to `now`. */
export function refill(level: number, capacity: number, since: number, now: number): number {
  const elapsed = Math.max(0, now - since);
  return Math.min(capacity, level + (elapsed * capacity) / MS_PER_MINUTE);
}

/** Whole seconds until a bucket refilling at `capacity` per minute gains `deficit`, at least 1. */
export function secondsToRefill(deficit: number, capacity: number): number {
  const ms = (deficit * MS_PER_MINUTE) / capacity;
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Returns the Retry-After for a token-bucket rejection. A request larger than the
 * whole bucket never fits, so the gateway rejects it with 413 before admission.
 * A direct caller gets 60 s, the full refill time.
 */
export function tokenRetryAfterSeconds(tokens: number, level: number, capacity: number): number {
  if (tokens > capacity) {
    return MS_PER_MINUTE / 1000;
  }
  return secondsToRefill(tokens - level, capacity);
}

/**
 * Checks the request bucket, the token bucket, the in-flight cap and the
 * budget in that order, and takes from all of them only when all pass.
 */
export function decide(
  state: TenantState,
  request: AdmissionRequest,
  now: number,
  budgetRetryAfterSeconds: number,
): Decision {
  const { tenant, tokens, maxCostUsd } = request;
  const requestLevel = refill(state.requestLevel, tenant.requestsPerMinute, state.updatedAt, now);
  const tokenLevel = refill(state.tokenLevel, tenant.tokensPerMinute, state.updatedAt, now);
  if (requestLevel < 1) {
    const retry = secondsToRefill(1 - requestLevel, tenant.requestsPerMinute);
    return { admitted: false, reason: 'requests_per_minute', retryAfterSeconds: retry };
  }
  if (tokenLevel < tokens) {
    const retry = tokenRetryAfterSeconds(tokens, tokenLevel, tenant.tokensPerMinute);
    return { admitted: false, reason: 'tokens_per_minute', retryAfterSeconds: retry };
  }
  if (state.inFlight >= tenant.maxInFlight) {
    return {
      admitted: false,
      reason: 'in_flight',
      retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS,
    };
  }
  // USD sums are rounded to the picodollar, so a budget that covers N tasks admits exactly N
  // while the sums stay below about 9,007 USD, where roundUsd stops rounding.
  const committedUsd = addUsd(state.spentUsd, state.reservedUsd);
  if (addUsd(committedUsd, maxCostUsd) > tenant.budgetUsd) {
    return {
      admitted: false,
      reason: 'budget',
      retryAfterSeconds: budgetRetryAfterSeconds,
      fitsAfterReservations:
        state.reservedUsd > 0 && addUsd(state.spentUsd, maxCostUsd) <= tenant.budgetUsd,
    };
  }
  const next: TenantState = {
    requestLevel: requestLevel - 1,
    tokenLevel: tokenLevel - tokens,
    updatedAt: Math.max(now, state.updatedAt),
    inFlight: state.inFlight + 1,
    reservedUsd: addUsd(state.reservedUsd, maxCostUsd),
    spentUsd: state.spentUsd,
  };
  return { admitted: true, next };
}

/** Returns the limit a rejection names, with the tenant's configured value. */
export function limitFor(reason: RejectionReason, tenant: TenantLimits): LimitDescriptor {
  switch (reason) {
    case 'requests_per_minute':
      return { name: 'requests_per_minute', value: tenant.requestsPerMinute };
    case 'tokens_per_minute':
      return { name: 'tokens_per_minute', value: tenant.tokensPerMinute };
    case 'in_flight':
      return { name: 'max_in_flight', value: tenant.maxInFlight };
    case 'budget':
      return { name: 'budget_usd', value: tenant.budgetUsd };
    case 'backpressure':
      return { name: 'backpressure', value: 0 };
  }
}

/**
 * Builds the typed rejection of `request` for a tenant limit at `now`, in ms since the
 * epoch. Every tenant limit returns status 429. A budget rejection gets the time to the
 * period's reset only when the task's reservation fits a whole period's budget, because a
 * larger one is rejected in every period.
 */
export function tenantRejection(
  decision: Extract<Decision, { admitted: false }>,
  request: AdmissionRequest,
  now: number,
): Rejection {
  const { tenant } = request;
  const rejection: Rejection = {
    admitted: false,
    reason: decision.reason,
    retryAfterSeconds: decision.retryAfterSeconds,
    status: 429,
    limit: limitFor(decision.reason, tenant),
  };
  if (decision.fitsAfterReservations !== undefined) {
    rejection.fitsAfterReservations = decision.fitsAfterReservations;
  }
  const period = budgetPeriodOf(tenant);
  if (
    decision.reason === 'budget' &&
    period !== 'total' &&
    request.maxCostUsd <= tenant.budgetUsd
  ) {
    const untilEndMs = periodAt(period, now).endMs - now;
    rejection.budgetResetSeconds = Math.max(1, Math.ceil(untilEndMs / 1000));
  }
  return rejection;
}

/** True when a period's spend plus its reservations fit `budgetUsd`. */
export function withinBudget(state: PeriodSpend, budgetUsd: number): boolean {
  return addUsd(state.spentUsd, state.reservedUsd) <= budgetUsd;
}

/** @throws AdmissionInputError naming the field when a request value is out of range. */
export function validateRequest(request: AdmissionRequest): void {
  const { tenant } = request;
  checkNonNegative('tokens', request.tokens);
  checkNonNegative('maxCostUsd', request.maxCostUsd);
  checkPositive('tenant.requestsPerMinute', tenant.requestsPerMinute);
  checkPositive('tenant.tokensPerMinute', tenant.tokensPerMinute);
  checkPositive('tenant.maxInFlight', tenant.maxInFlight);
  checkNonNegative('tenant.budgetUsd', tenant.budgetUsd);
  const period = tenant.budgetPeriod;
  if (period !== undefined && !BUDGET_PERIODS.includes(period)) {
    throw new AdmissionInputError(
      `tenant.budgetPeriod must be one of ${BUDGET_PERIODS.join(', ')}, got ${JSON.stringify(period)}`,
    );
  }
}

export function checkNonNegative(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new AdmissionInputError(`${field} must be a finite number >= 0, got ${String(value)}`);
  }
}

/** Checks a run's spend: a whole run number from 1 and a finite spend >= 0. */
export function checkRunSpend(spend: RunSpend): void {
  if (!Number.isSafeInteger(spend.run) || spend.run < 1) {
    throw new AdmissionInputError(
      `run must be a whole number >= 1, such as a delivery's number, got ${String(spend.run)}`,
    );
  }
  checkNonNegative('spentUsd', spend.spentUsd);
}

function checkPositive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new AdmissionInputError(`${field} must be a positive number, got ${String(value)}`);
  }
}
