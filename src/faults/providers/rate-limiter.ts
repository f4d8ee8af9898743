/** State of one limit after a request was checked against it. */
export interface LimitState {
  limit: number;
  /** Whole units left now. */
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  resetMs: number;
}

/** Outcome of {@link KeyRateLimiter.take}. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Limit that rejected the request, when one did. */
  limitedBy?: 'requests' | 'tokens';
  /** Milliseconds until the request would fit; 0 when allowed. */
  retryAfterMs: number;
  /** Tokens the request asked for; above `tokens.limit`, no wait lets it fit. */
  requestedTokens: number;
  requests: LimitState;
  tokens: LimitState;
}

interface Bucket {
  level: number;
  updatedAt: number;
}

interface KeyBuckets {
  requests: Bucket;
  tokens: Bucket;
}

/**
 * Per-key token buckets for requests and tokens per minute. Each bucket contains one minute's
 * allowance and refills continuously, so `limit` requests can burst at once.
 */
export class KeyRateLimiter {
  readonly #requestsPerMinute: number;
  readonly #tokensPerMinute: number;
  // NOTE: buckets are never evicted, so memory grows with the number of distinct API keys.
  readonly #buckets = new Map<string, KeyBuckets>();

  constructor(requestsPerMinute: number, tokensPerMinute: number) {
    this.#requestsPerMinute = requestsPerMinute;
    this.#tokensPerMinute = tokensPerMinute;
  }

  /** Takes one request and `tokens` tokens from `key`'s buckets at time `now` (ms), if both fit. */
  take(key: string, tokens: number, now: number): RateLimitDecision {
    const buckets = this.#bucketsFor(key, now);
    const requestLevel = refill(buckets.requests, this.#requestsPerMinute, now);
    const tokenLevel = refill(buckets.tokens, this.#tokensPerMinute, now);
    const requestWait = waitMs(requestLevel, 1, this.#requestsPerMinute);
    const tokenWait = waitMs(tokenLevel, tokens, this.#tokensPerMinute);
    const allowed = requestWait === 0 && tokenWait === 0;
    let limitedBy: RateLimitDecision['limitedBy'];
    if (allowed) {
      buckets.requests.level -= 1;
      buckets.tokens.level -= tokens;
    } else {
      limitedBy = requestWait > 0 ? 'requests' : 'tokens';
    }
    return {
      allowed,
      limitedBy,
      retryAfterMs: Math.max(requestWait, tokenWait),
      requestedTokens: tokens,
      requests: limitState(buckets.requests.level, this.#requestsPerMinute),
      tokens: limitState(buckets.tokens.level, this.#tokensPerMinute),
    };
  }

  #bucketsFor(key: string, now: number): KeyBuckets {
    let buckets = this.#buckets.get(key);
    if (buckets === undefined) {
      buckets = {
        requests: { level: this.#requestsPerMinute, updatedAt: now },
        tokens: { level: this.#tokensPerMinute, updatedAt: now },
      };
      this.#buckets.set(key, buckets);
    }
    return buckets;
  }
}

const MINUTE_MS = 60_000;

function refill(bucket: Bucket, perMinute: number, now: number): number {
  const elapsed = Math.max(0, now - bucket.updatedAt);
  bucket.level = Math.min(perMinute, bucket.level + (elapsed * perMinute) / MINUTE_MS);
  bucket.updatedAt = now;
  return bucket.level;
}

/** Milliseconds until `level` reaches `cost`; a cost above the limit waits a full minute. */
function waitMs(level: number, cost: number, perMinute: number): number {
  if (level >= cost) {
    return 0;
  }
  if (cost > perMinute) {
    return MINUTE_MS;
  }
  return Math.ceil(((cost - level) * MINUTE_MS) / perMinute);
}

function limitState(level: number, perMinute: number): LimitState {
  return {
    limit: perMinute,
    remaining: Math.max(0, Math.floor(level)),
    resetMs: Math.ceil(((perMinute - level) * MINUTE_MS) / perMinute),
  };
}
