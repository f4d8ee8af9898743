import type { Rejection } from '../admission/types.js';
import type { BudgetPeriod, Tenant } from '../tenants/tenant.js';
import { GatewayError, type GatewayErrorCode } from './gateway-error.js';

/**
 * Maps a budget rejection to a 429 whose message and Retry-After give the time at which a
 * retry can pass, or the fix when no retry can.
 */
export function budgetRejectionError(
  rejection: Rejection,
  tenant: Tenant,
  code: GatewayErrorCode,
): GatewayError {
  const { name, value } = rejection.limit;
  const scope = `tenant ${tenant.id}`;
  const retry = `retry after ${rejection.retryAfterSeconds} s`;

  // Spent budget comes back only when a day or month budget resets, and reservations when
  // running tasks settle. A reservation above the whole budget, or a total budget that
  // freeing the reservations cannot lift, gets no Retry-After, because no retry can pass.
  const reservation =
    rejection.reservationUsd === undefined ? '' : ` of $${rejection.reservationUsd.toPrecision(4)}`;
  const period = BUDGET_PERIOD_WORDS[tenant.budgetPeriod ?? 'total'];
  const noRoom = `${name} limit of ${value}${period} for ${scope} leaves no room for this task's reservation${reservation}`;

  const reservationUsd = rejection.reservationUsd;
  if (reservationUsd !== undefined && reservationUsd > value) {
    const later = period === '' ? '' : ', not even in a later period';
    const message = `${name} limit of ${value}${period} for ${scope} is below this task's reservation${reservation}, so no retry can pass${later}; ${RAISE_OR_SHRINK}`;
    return new GatewayError(rejection.status, code, message, { limit: name });
  }

  const resetSeconds = rejection.budgetResetSeconds;
  const reset = `retry after ${resetSeconds} s, when the budget period ends and its spend resets, or raise budgetUsd in the tenants file`;
  if (rejection.fitsAfterReservations === false && resetSeconds !== undefined) {
    const message = `${noRoom}, and freeing the reservations of running tasks would not make room; ${reset}`;
    return new GatewayError(rejection.status, code, message, {
      limit: name,
      retryAfterSeconds: resetSeconds,
    });
  }
  // A period that ends before the reservation retry frees its whole budget sooner.
  if (resetSeconds !== undefined && resetSeconds < rejection.retryAfterSeconds) {
    return new GatewayError(rejection.status, code, `${noRoom}; ${reset}`, {
      limit: name,
      retryAfterSeconds: resetSeconds,
    });
  }
  if (rejection.fitsAfterReservations === false) {
    const message = `${noRoom}, and freeing the reservations of running tasks would not make room; ${RAISE_OR_SHRINK}`;
    return new GatewayError(rejection.status, code, message, { limit: name });
  }
  const message = `${noRoom}; ${retry}, when running tasks may have freed their reservations, or raise budgetUsd in the tenants file`;
  return new GatewayError(rejection.status, code, message, {
    limit: name,
    retryAfterSeconds: rejection.retryAfterSeconds,
  });
}

/** The fix of a budget rejection that no freed reservation or new period can lift. */
const RAISE_OR_SHRINK =
  'raise budgetUsd in the tenants file, or lower maxOutputTokens or the input, which size the reservation';

/** The period of a budget as a rejection message names it after the limit's value. */
const BUDGET_PERIOD_WORDS: Record<BudgetPeriod, string> = {
  total: '',
  day: ' per UTC day',
  month: ' per UTC calendar month',
};
