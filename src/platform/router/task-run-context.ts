import type { Clock } from '../clock.js';
import type { ProviderClient } from '../providers/types.js';
import type { TaskResult } from '../task.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { Candidate, RoutePolicy } from './policy-types.js';
import type { ProviderThrottle } from './provider-throttle.js';
import type { RetryBudget } from './retry-budget.js';
import type { RouterError } from './router-errors.js';
import type { CandidateRef, RouterEventMap } from './router-events.js';

/** Event of `Router.stream`. Every stream ends with exactly one `done` or `error`. */
export type RouterStreamEvent =
  | { type: 'delta'; text: string }
  | { type: 'done'; result: TaskResult }
  | { type: 'error'; error: RouterError };

/** Shared router parts one task run uses. */
export interface TaskRunContext {
  routeName: string;
  route: RoutePolicy;
  /** The route's candidates, then each fallback route's, one group per route. */
  candidateGroups: Candidate[][];
  /** Every candidate of `candidateGroups` in policy order. */
  candidates: Candidate[];
  /** Returns the route whose group lists `candidate`: `routeName` or one of its fallback routes. */
  candidateRouteOf(candidate: Candidate): string;
  /** Returns the largest `max_tokens` the candidate's model accepts, from the provider catalog. */
  outputLimitOf(candidate: Candidate): number;
  /** Returns the context window of the candidate's model in tokens, from the provider catalog. */
  contextWindowOf(candidate: Candidate): number;
  clock: Clock;
  /** Source of the weighted first pick and of backoff jitter, in [0, 1). */
  random: () => number;
  clientFor(provider: string): ProviderClient;
  breakerFor(candidate: Candidate): CircuitBreaker;
  throttle: ProviderThrottle;
  budget: RetryBudget;
  emit<K extends keyof RouterEventMap>(name: K, ...args: RouterEventMap[K]): void;
}

/** Returns the provider and model of a candidate, without its weight. */
export function candidateRef(candidate: Candidate): CandidateRef {
  return { provider: candidate.provider, model: candidate.model };
}
