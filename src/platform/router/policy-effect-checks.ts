import type { PolicyProblem } from './policy-errors.js';
import type { RoutePolicy } from './policy-types.js';
import { DEFAULT_RETRY_BACKOFF_MS } from './retry-backoff.js';

/**
 * Returns a problem for each setting of a route that the router can never act on, given
 * the route's other settings. Each message names the value that cancels it and the fix.
 */
export function checkSettingsTakeEffect(name: string, route: RoutePolicy): PolicyProblem[] {
  return [
    ...checkBreakerThreshold(name, route),
    ...checkRetryBudget(name, route),
    ...checkRetryBackoff(name, route),
    ...checkRetryBackoffCap(name, route),
  ];
}

/**
 * Reports a `failureThreshold` above `minimumRequests`. The circuit opens when the window
 * contains at least `minimumRequests` calls and at least `failureThreshold` failures
 * (SlidingWindowBreaker). Failures are calls, so such a threshold alone decides.
 */
function checkBreakerThreshold(name: string, route: RoutePolicy): PolicyProblem[] {
  const { failureThreshold, minimumRequests } = route.breaker;
  if (failureThreshold <= minimumRequests) {
    return [];
  }
  const message = `failureThreshold ${failureThreshold} is above minimumRequests ${minimumRequests}, and failed calls count toward minimumRequests, so minimumRequests has no effect; set minimumRequests to ${failureThreshold} or more, or failureThreshold to ${minimumRequests} or less`;
  return [{ path: `/routes/${name}/breaker/failureThreshold`, message }];
}

/**
 * Reports a retry budget that allows no retry, or a cap in it that never applies. Every call
 * after a task's first takes a retry from the budget, failovers included (TaskRun). With
 * `maxAttemptsPerTask` 1 the budget is never consulted, so it is not checked.
 */
function checkRetryBudget(name: string, route: RoutePolicy): PolicyProblem[] {
  const budget = route.retryBudget;
  if (budget.maxAttemptsPerTask <= 1) {
    return [];
  }
  const path = `/routes/${name}/retryBudget`;
  const blocked = noRetryReason(budget);
  if (blocked !== undefined) {
    const message = `${blocked.reason} allows no retry in any window, and every call after a task's first is a retry, failovers included, so maxAttemptsPerTask ${budget.maxAttemptsPerTask} has no effect; set maxAttemptsPerTask to 1 for no retries, or ${blocked.fix}`;
    return [{ path: `${path}/${blocked.field}`, message }];
  }
  return checkBudgetCaps(path, budget);
}

/** Returns why the budget's cap is 0 in every window, or undefined when it can allow a retry. */
function noRetryReason(
  budget: RoutePolicy['retryBudget'],
): { field: string; reason: string; fix: string } | undefined {
  if (budget.maxRetriesPerWindow === 0) {
    return {
      field: 'maxRetriesPerWindow',
      reason: 'maxRetriesPerWindow 0',
      fix: 'raise maxRetriesPerWindow above 0',
    };
  }
  const minimum = budget.minRetriesPerWindow ?? 0;
  if (budget.ratio === 0 && minimum === 0) {
    const minimumText =
      budget.minRetriesPerWindow === undefined
        ? 'minRetriesPerWindow 0 (the default)'
        : 'minRetriesPerWindow 0';
    return {
      field: 'ratio',
      reason: `ratio 0 with ${minimumText}`,
      fix: 'raise ratio or minRetriesPerWindow above 0',
    };
  }
  return undefined;
}

/**
 * Reports `minRetriesPerWindow` without `ratio`, which RetryBudget reads only with `ratio`,
 * and a `ratio` that `maxRetriesPerWindow` always caps. With both caps set, RetryBudget
 * allows the lower one, and `floor(minRetriesPerWindow + ratio * first attempts)` is never
 * below `minRetriesPerWindow`.
 */
function checkBudgetCaps(path: string, budget: RoutePolicy['retryBudget']): PolicyProblem[] {
  const { maxRetriesPerWindow, minRetriesPerWindow, ratio } = budget;
  if (minRetriesPerWindow !== undefined && ratio === undefined) {
    const message = `minRetriesPerWindow ${minRetriesPerWindow} has no effect without ratio, and the budget allows maxRetriesPerWindow ${String(maxRetriesPerWindow)} retries per window; remove minRetriesPerWindow, or add ratio`;
    return [{ path: `${path}/minRetriesPerWindow`, message }];
  }
  if (
    ratio !== undefined &&
    maxRetriesPerWindow !== undefined &&
    (minRetriesPerWindow ?? 0) >= maxRetriesPerWindow
  ) {
    const message = `ratio has no effect, because minRetriesPerWindow ${minRetriesPerWindow ?? 0} alone reaches maxRetriesPerWindow ${maxRetriesPerWindow}, so the budget always allows ${maxRetriesPerWindow} retries per window; remove ratio and minRetriesPerWindow, or set minRetriesPerWindow below ${maxRetriesPerWindow}`;
    return [{ path: `${path}/ratio`, message }];
  }
  return [];
}

/**
 * Reports a backoff whose shortest wait reaches the deadline. Before a task calls a candidate
 * again it waits at least half of `retryBackoffMs` (retryBackoffMs in retry-backoff.ts). A
 * wait that reaches the deadline ends the task with deadline_exceeded, so the call never
 * happens.
 */
function checkRetryBackoff(name: string, route: RoutePolicy): PolicyProblem[] {
  if (route.retryBudget.maxAttemptsPerTask <= 1) {
    return [];
  }
  const baseMs = route.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
  if (baseMs / 2 < route.deadlineMs) {
    return [];
  }
  const consequence = `makes a task wait at least ${baseMs / 2} ms before it calls a candidate again, at or above deadlineMs ${route.deadlineMs}, so the task waits out its deadline instead`;
  if (route.retryBackoffMs === undefined) {
    const message = `the default retryBackoffMs ${baseMs} ${consequence}; set retryBackoffMs below ${2 * route.deadlineMs}, or raise deadlineMs above ${baseMs / 2}`;
    return [{ path: `/routes/${name}/deadlineMs`, message }];
  }
  const message = `retryBackoffMs ${baseMs} ${consequence}; set retryBackoffMs below ${2 * route.deadlineMs}`;
  return [{ path: `/routes/${name}/retryBackoffMs`, message }];
}

/** Reports a backoff cap below the base wait, which the router then uses as the cap instead. */
function checkRetryBackoffCap(name: string, route: RoutePolicy): PolicyProblem[] {
  const capMs = route.retryBackoffMaxMs;
  const baseMs = route.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
  if (capMs === undefined || capMs >= baseMs) {
    return [];
  }
  const base =
    route.retryBackoffMs === undefined
      ? `the default retryBackoffMs ${baseMs}`
      : `retryBackoffMs ${baseMs}`;
  const lower = route.retryBackoffMs === undefined ? 'set retryBackoffMs' : 'lower retryBackoffMs';
  const message = `retryBackoffMaxMs ${capMs} is below ${base}, and the router never caps a wait below the base wait; raise retryBackoffMaxMs to at least ${baseMs}, or ${lower} to ${capMs} or less`;
  return [{ path: `/routes/${name}/retryBackoffMaxMs`, message }];
}
