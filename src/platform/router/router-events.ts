import type { ProviderErrorClass } from '../providers/errors.js';
import type { BreakerTransition } from './breaker-state.js';
import type { ThrottleNotice } from './provider-throttle.js';

/** A provider and model, as routes name them. */
export interface CandidateRef {
  provider: string;
  model: string;
}

/**
 * Reason a candidate was passed over without a call. `context_length_exceeded` marks a model
 * whose context window is smaller than the task's input plus `maxOutputTokens`.
 */
export type SkipReason = 'breaker_open' | 'throttled' | 'context_length_exceeded';

/** Events a router emits; listeners must not throw. */
export interface RouterEventMap {
  attempt_start: [{ route: string; provider: string; model: string; attempt: number }];
  attempt_end: [
    {
      route: string;
      /** Route whose candidates list this provider and model: `route` or one of its fallback routes. */
      candidateRoute: string;
      provider: string;
      model: string;
      outcome: 'success' | 'failed';
      errorClass?: ProviderErrorClass;
      latencyMs: number;
    },
  ];
  attempt_skipped: [{ route: string; provider: string; model: string; reason: SkipReason }];
  failover: [
    { route: string; from: CandidateRef; to: CandidateRef; errorClass: ProviderErrorClass },
  ];
  breaker_transition: [BreakerTransition];
  retry_budget_exhausted: [{ route: string; retriesInWindow: number; allowedRetries: number }];
  provider_throttled: [ThrottleNotice];
}
