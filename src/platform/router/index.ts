/** Model router: route policies, provider failover, circuit breakers, retry budgets and throttling. */
export type { BreakerState, BreakerTransition } from './breaker-state.js';
export { NEUTRAL_ERROR_CLASSES, transitionReason } from './breaker-state.js';
export type { CatalogProvider, ProviderCatalog } from './catalog.js';
export {
  type BreakerPermit,
  CircuitBreaker,
  type CircuitBreakerOptions,
} from './circuit-breaker.js';
export {
  DEFAULT_POLICY_PATH,
  loadPolicy,
  parsePolicy,
  parsePolicyYaml,
  POLICY_SCHEMA_PATH,
  policyHash,
} from './load-policy.js';
export {
  formatPolicyProblem,
  isPolicyValidationError,
  type PolicyProblem,
  PolicyValidationError,
  type SourceLocation,
} from './policy-errors.js';
export type * from './policy-types.js';
export { ProviderThrottle, type ThrottleNotice, type ThrottleSource } from './provider-throttle.js';
export { RetryBudget } from './retry-budget.js';
export { RouteOutputLimits } from './route-output-limits.js';
export {
  createRouter,
  type RouteCallOptions,
  Router,
  type RouterOptions,
  type RouterSnapshot,
} from './router.js';
export * from './router-errors.js';
export type * from './router-events.js';
export {
  SlidingWindowBreaker,
  type SlidingWindowBreakerOptions,
} from './sliding-window-breaker.js';
export type { RouterStreamEvent } from './task-run-context.js';
