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
 * Maximum wait, in milliseconds, that one `Retry-After` or quota reset header sets: one
 * hour. The route policy has no maximum cooldown to reuse, and a longer value more likely
 * comes from a broken header than from a provider that should go unused that long.
 */
export const MAX_RETRY_AFTER_MS = 3_600_000;

const DELAY_SECONDS = /^\d+$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Day names in `getUTCDay` order, Sunday first. */
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAY_NAMES = WEEKDAYS.join('|');
const LONG_DAY_NAMES = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const MONTH_NAMES = MONTHS.join('|');
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^(${DAY_NAMES}), (\\d{2}) (${MONTH_NAMES}) (\\d{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const RFC850_DATE = new RegExp(
  `^(${LONG_DAY_NAMES}), (\\d{2})-(${MONTH_NAMES})-(\\d{2}) ${TIME} GMT$`,
);
/** `Sun Nov  6 08:49:37 1994`, with the day of month padded by a space */
const ASCTIME_DATE = new RegExp(`^(${DAY_NAMES}) (${MONTH_NAMES}) ([ \\d]\\d) ${TIME} (\\d{4})$`);

/**
 * Parses `Retry-After` as delay-seconds or an HTTP-date in one of the three formats of
 * RFC 9110 section 5.6.7, capped at {@link MAX_RETRY_AFTER_MS}. Returns undefined when
 * the value is missing or matches neither form, such as `-5`, `1.5` or `retry in 60`.
 */
export function parseRetryAfter(text: string | undefined, nowMs: number): number | undefined {
  if (text === undefined) {
    return undefined;
  }
  const trimmed = text.trim();
  if (DELAY_SECONDS.test(trimmed)) {
    return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  }
  const date = parseHttpDate(trimmed, nowMs);
  return date === undefined ? undefined : Math.min(Math.max(0, date - nowMs), MAX_RETRY_AFTER_MS);
}

/** Parses an HTTP-date into epoch milliseconds, or returns undefined for any other text. */
function parseHttpDate(text: string, nowMs: number): number | undefined {
  const imf = IMF_FIXDATE.exec(text);
  if (imf !== null) {
    const [, weekday, day, month, year, hour, minute, second] = imf;
    return utcDate(weekday, Number(year), month, day, [hour, minute, second]);
  }
  const rfc850 = RFC850_DATE.exec(text);
  if (rfc850 !== null) {
    const [, weekday, day, month, year, hour, minute, second] = rfc850;
    const expandedYear = fullYear(Number(year), nowMs);
    return utcDate(weekday, expandedYear, month, day, [hour, minute, second]);
  }
  const asctime = ASCTIME_DATE.exec(text);
  if (asctime !== null) {
    const [, weekday, month, day, hour, minute, second, year] = asctime;
    return utcDate(weekday, Number(year), month, day, [hour, minute, second]);
  }
  return undefined;
}

/**
 * Expands a two-digit RFC 850 year: RFC 9110 reads a year that would be more than
 * 50 years in the future as the most recent past year with the same last two digits.
 */
function fullYear(twoDigits: number, nowMs: number): number {
  const thisYear = new Date(nowMs).getUTCFullYear();
  const year = Math.floor(thisYear / 100) * 100 + twoDigits;
  return year > thisYear + 50 ? year - 100 : year;
}

/**
 * Returns the epoch milliseconds of a date, or undefined for a day or time that does not
 * exist or a weekday that does not match the date.
 */
function utcDate(
  weekday: string | undefined,
  year: number,
  monthName: string | undefined,
  dayText: string | undefined,
  time: (string | undefined)[],
): number | undefined {
  const month = MONTHS.indexOf(monthName ?? '');
  const day = Number(dayText);
  const [hour, minute, second] = time.map(Number);
  if (hour === undefined || minute === undefined || second === undefined) {
    return undefined;
  }
  // A second of 60 (a leap second) is accepted, and Date.UTC rolls it into the next minute.
  if (hour > 23 || minute > 59 || second > 60) {
    return undefined;
  }
  const ms = Date.UTC(year, month, day, hour, minute, second);
  const check = new Date(ms);
  if (check.getUTCMonth() !== month || check.getUTCDate() !== day) return undefined;
  // A leap second rolled into the next day keeps the weekday of the day written.
  const written = Date.UTC(year, month, day);
  return WEEKDAYS[new Date(written).getUTCDay()] === weekday?.slice(0, 3) ? ms : undefined;
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Parsed reset durations by header text. Providers repeat a few values, such as `1ms`. */
const durationCache = new Map<string, number | undefined>();
const DURATION_CACHE_ENTRIES = 256;

/**
 * Parses OpenAI reset durations such as `1s`, `6m0s` or `20ms` into milliseconds, capped
 * at {@link MAX_RETRY_AFTER_MS}.
 */
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

/**
 * Maximum length of a reset duration that is parsed, in characters. Real values are short,
 * such as `6m0s` or `1h2m3.5s`, and DURATION_PART takes time quadratic in a long digit run.
 */
const MAX_DURATION_CHARS = 64;

function parseDuration(trimmed: string): number | undefined {
  if (trimmed.length > MAX_DURATION_CHARS) return undefined;
  const parts = [...trimmed.matchAll(DURATION_PART)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== trimmed) {
    return undefined;
  }
  const ms = parts.reduce((sum, part) => sum + Number(part[1]) * (UNIT_MS[part[2] ?? 's'] ?? 0), 0);
  return Math.min(Math.round(ms), MAX_RETRY_AFTER_MS);
}

/** `2026-12-05T05:30:00Z` or with fractional seconds and a `+hh:mm` offset. */
const RFC3339_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses an Anthropic reset timestamp (RFC 3339) into milliseconds from `nowMs`, capped
 * at {@link MAX_RETRY_AFTER_MS}. Returns undefined for any other text, because
 * `Date.parse` alone reads text such as `Tue 2099` as a date decades away.
 */
export function parseResetTimestamp(text: string | undefined, nowMs: number): number | undefined {
  if (text === undefined || !RFC3339_TIMESTAMP.test(text.trim())) {
    return undefined;
  }
  const date = Date.parse(text.trim());
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - nowMs), MAX_RETRY_AFTER_MS);
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
