/** Header values as undici returns them. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Remaining provider quota, as one response's headers report it. */
export interface RateLimitInfo {
  remainingRequests?: number;
  remainingTokens?: number;
  /** Milliseconds until the request quota resets, relative to the response. */
  requestsResetMs?: number;
  tokensResetMs?: number;
  /** Milliseconds from `Retry-After`. */
  retryAfterMs?: number;
}

function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) {
    return undefined;
  }
  return Number(text.trim());
}

/**
 * Parses `Retry-After` as delay-seconds or an HTTP date (RFC 9110 section 10.2.3).
 * Returns undefined when the value is missing or invalid.
 */
export function parseRetryAfter(text: string | undefined, nowMs: number): number | undefined {
  if (text === undefined) {
    return undefined;
  }
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    return Math.round(Number(trimmed) * 1000);
  }
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Parsed reset durations by header text. Providers repeat a few values, such as `1ms`. */
const durationCache = new Map<string, number | undefined>();
const DURATION_CACHE_ENTRIES = 256;

/** Parses OpenAI reset durations such as `1s`, `6m0s` or `20ms` into milliseconds. */
export function parseResetDuration(text: string | undefined): number | undefined {
  if (text === undefined) {
    return undefined;
  }
  if (durationCache.has(text)) {
    return durationCache.get(text);
  }
  const parsed = parseDuration(text.trim());
  if (durationCache.size >= DURATION_CACHE_ENTRIES) {
    durationCache.clear();
  }
  durationCache.set(text, parsed);
  return parsed;
}

function parseDuration(trimmed: string): number | undefined {
  const parts = [...trimmed.matchAll(DURATION_PART)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== trimmed) {
    return undefined;
  }
  return Math.round(
    parts.reduce((sum, part) => sum + Number(part[1]) * (UNIT_MS[part[2] ?? 's'] ?? 0), 0),
  );
}

/** Parses an Anthropic reset timestamp (RFC 3339) into milliseconds from `nowMs`. */
function parseResetTimestamp(text: string | undefined, nowMs: number): number | undefined {
  if (text === undefined) {
    return undefined;
  }
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Reads OpenAI `x-ratelimit-*` headers and `Retry-After`. */
export function parseOpenAiRateLimit(headers: ResponseHeaders, nowMs: number): RateLimitInfo {
  return {
    remainingRequests: parseCount(headerValue(headers, 'x-ratelimit-remaining-requests')),
    remainingTokens: parseCount(headerValue(headers, 'x-ratelimit-remaining-tokens')),
    requestsResetMs: parseResetDuration(headerValue(headers, 'x-ratelimit-reset-requests')),
    tokensResetMs: parseResetDuration(headerValue(headers, 'x-ratelimit-reset-tokens')),
    retryAfterMs: parseRetryAfter(headerValue(headers, 'retry-after'), nowMs),
  };
}

/** Reads Anthropic `anthropic-ratelimit-*` headers and `Retry-After`. */
export function parseAnthropicRateLimit(headers: ResponseHeaders, nowMs: number): RateLimitInfo {
  const reset = (name: string): number | undefined =>
    parseResetTimestamp(headerValue(headers, `anthropic-ratelimit-${name}-reset`), nowMs);
  return {
    remainingRequests: parseCount(headerValue(headers, 'anthropic-ratelimit-requests-remaining')),
    remainingTokens: parseCount(headerValue(headers, 'anthropic-ratelimit-tokens-remaining')),
    requestsResetMs: reset('requests'),
    tokensResetMs: reset('tokens'),
    retryAfterMs: parseRetryAfter(headerValue(headers, 'retry-after'), nowMs),
  };
}
