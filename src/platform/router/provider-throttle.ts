import type { Clock } from '../clock.js';
import type { RateLimitInfo } from '../providers/rate-limit-headers.js';
import type { ThrottlePolicy } from './policy-types.js';

/** Reason a provider is being skipped. */
export type ThrottleSource = 'remaining_requests' | 'remaining_tokens' | 'retry_after';

/** One provider skip window. */
export interface ThrottleNotice {
  provider: string;
  /** Monotonic milliseconds when calls resume. */
  until: number;
  source: ThrottleSource;
}

/**
 * Client-side throttling per provider (one API key each): after a response
 * reports remaining quota at or below the policy's level, or a 429 carries
 * `Retry-After`, the router skips the provider until the reset.
 */
export class ProviderThrottle {
  readonly #policy: Required<ThrottlePolicy>;
  readonly #clock: Clock;
  readonly #until = new Map<string, number>();
  readonly #onThrottle: (notice: ThrottleNotice) => void;

  constructor(
    policy: ThrottlePolicy | undefined,
    clock: Clock,
    onThrottle: (notice: ThrottleNotice) => void,
  ) {
    this.#policy = {
      minRemainingRequests: policy?.minRemainingRequests ?? 0,
      minRemainingTokens: policy?.minRemainingTokens ?? 0,
      defaultResetMs: policy?.defaultResetMs ?? 1000,
    };
    this.#clock = clock;
    this.#onThrottle = onThrottle;
  }

  /** Reads a response's quota headers. */
  observe(provider: string, rateLimit: RateLimitInfo): void {
    const { remainingRequests, remainingTokens } = rateLimit;
    if (remainingRequests !== undefined && remainingRequests <= this.#policy.minRemainingRequests) {
      this.#block(
        provider,
        rateLimit.requestsResetMs ?? rateLimit.retryAfterMs,
        'remaining_requests',
      );
    }
    if (remainingTokens !== undefined && remainingTokens <= this.#policy.minRemainingTokens) {
      this.#block(provider, rateLimit.tokensResetMs ?? rateLimit.retryAfterMs, 'remaining_tokens');
    }
  }

  /** Skips the provider for a `Retry-After` it sent with a 429. */
  observeRetryAfter(provider: string, retryAfterMs: number): void {
    this.#block(provider, retryAfterMs, 'retry_after');
  }

  /** Returns when the provider may be called again, or undefined when it may be called now. */
  blockedUntil(provider: string): number | undefined {
    const until = this.#until.get(provider);
    if (until === undefined || until <= this.#clock.monotonic()) {
      this.#until.delete(provider);
      return undefined;
    }
    return until;
  }

  /** Skip windows still in force, for metrics. */
  snapshot(): { provider: string; until: number }[] {
    return [...this.#until.keys()]
      .map((provider) => ({ provider, until: this.blockedUntil(provider) }))
      .filter((entry): entry is { provider: string; until: number } => entry.until !== undefined);
  }

  #block(provider: string, resetMs: number | undefined, source: ThrottleSource): void {
    const until = this.#clock.monotonic() + (resetMs ?? this.#policy.defaultResetMs);
    if (until > (this.#until.get(provider) ?? 0)) {
      this.#until.set(provider, until);
      this.#onThrottle({ provider, until, source });
    }
  }
}
