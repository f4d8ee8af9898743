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
 * Most idle keys one {@link KeyRateLimiter.take} call evicts. Each call adds at most one key,
 * so sweeps remove idle keys faster than new keys arrive, at a bounded cost per call.
 */
const EVICTIONS_PER_TAKE = 8;

/**
 * Per-key token buckets for requests and tokens per minute. Each bucket contains one minute's
 * allowance and refills continuously, so `limit` requests can burst at once.
 *
 * A key whose buckets are full again is evicted, because a new key starts with full buckets
 * and so behaves the same. Keys are kept in the order of their last request, and every take
 * evicts up to {@link EVICTIONS_PER_TAKE} of the least recent ones while they are full. A
 * bucket refills from empty in one minute, so while requests arrive the map contains about the
 * keys that sent a request within the last minute. With no requests, nothing is evicted.
 */
export class KeyRateLimiter {
  readonly #requestsPerMinute: number;
  readonly #tokensPerMinute: number;
  /** Buckets by API key, least recently used first. */
  readonly #buckets = new Map<string, KeyBuckets>();

  constructor(requestsPerMinute: number, tokensPerMinute: number) {
    this.#requestsPerMinute = requestsPerMinute;
    this.#tokensPerMinute = tokensPerMinute;
  }

  /** Number of API keys whose buckets are kept. */
  get size(): number {
    return this.#buckets.size;
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
    this.#evictFull(key, now);
    return {
      allowed,
      limitedBy,
      retryAfterMs: Math.max(requestWait, tokenWait),
      requestedTokens: tokens,
      requests: limitState(buckets.requests.level, this.#requestsPerMinute),
      tokens: limitState(buckets.tokens.level, this.#tokensPerMinute),
    };
  }

  /** Returns `key`'s buckets, new and full if it has none, and moves it to the most recent end. */
  #bucketsFor(key: string, now: number): KeyBuckets {
    let buckets = this.#buckets.get(key);
    if (buckets === undefined) {
      buckets = {
        requests: { level: this.#requestsPerMinute, updatedAt: now },
        tokens: { level: this.#tokensPerMinute, updatedAt: now },
      };
    } else {
      this.#buckets.delete(key);
    }
    this.#buckets.set(key, buckets);
    return buckets;
  }

  /**
   * Evicts the least recently used keys while their buckets are full at `now`. It stops at the
   * first key that is still refilling, which is full at most one minute after its last request,
   * and at `current`, the key of this take, which is the most recent.
   */
  #evictFull(current: string, now: number): void {
    let evicted = 0;
    for (const [key, buckets] of this.#buckets) {
      if (key === current || evicted === EVICTIONS_PER_TAKE || !this.#isFull(buckets, now)) {
        return;
      }
      this.#buckets.delete(key);
      evicted += 1;
    }
  }

  #isFull(buckets: KeyBuckets, now: number): boolean {
    return (
      levelAt(buckets.requests, this.#requestsPerMinute, now) >= this.#requestsPerMinute &&
      levelAt(buckets.tokens, this.#tokensPerMinute, now) >= this.#tokensPerMinute
    );
  }
}

const MINUTE_MS = 60_000;

/** Returns the level `bucket` refills to by `now`, without changing it. */
function levelAt(bucket: Bucket, perMinute: number, now: number): number {
  const elapsed = Math.max(0, now - bucket.updatedAt);
  return Math.min(perMinute, bucket.level + (elapsed * perMinute) / MINUTE_MS);
}

function refill(bucket: Bucket, perMinute: number, now: number): number {
  bucket.level = levelAt(bucket, perMinute, now);
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
