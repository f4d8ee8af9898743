import type { RateLimitInfo } from './rate-limit-headers.js';

/**
 * Closed set of reasons a provider call fails; route policies list them in `failoverOn`.
 * `context_length_exceeded` is a 400 whose body reports that the input plus `max_tokens`
 * exceed the model's context window.
 */
export const PROVIDER_ERROR_CLASSES = [
  'status_400',
  'context_length_exceeded',
  'status_401',
  'status_403',
  'status_404',
  'status_408',
  'status_413',
  'status_429',
  'status_4xx',
  'status_5xx',
  'status_529',
  'first_token_timeout',
  'deadline_exceeded',
  'connection_error',
  'stream_error_event',
  'stream_truncated',
  'stream_stalled',
  'malformed_response',
  'aborted',
] as const;
export type ProviderErrorClass = (typeof PROVIDER_ERROR_CLASSES)[number];

const NAMED_STATUSES = new Set([400, 401, 403, 404, 408, 413, 429, 529]);

/** Maps an upstream HTTP status (>= 400) to its error class. */
export function statusErrorClass(status: number): ProviderErrorClass {
  if (NAMED_STATUSES.has(status)) {
    return `status_${status}` as ProviderErrorClass;
  }
  return status >= 500 ? 'status_5xx' : 'status_4xx';
}

/** Type guard for members of {@link PROVIDER_ERROR_CLASSES}. */
export function isProviderErrorClass(value: unknown): value is ProviderErrorClass {
  return typeof value === 'string' && (PROVIDER_ERROR_CLASSES as readonly string[]).includes(value);
}

export interface ProviderErrorDetails {
  provider: string;
  model: string;
  status?: number;
  /** Milliseconds the provider asked the caller to wait, from `Retry-After`. */
  retryAfterMs?: number;
  /** Provider-specific error type, such as Anthropic's `overloaded_error`. */
  upstreamType?: string;
  /** Quota headers of an HTTP error response. */
  rateLimit?: RateLimitInfo;
  /** Whether any text delta arrived before the failure. */
  afterFirstToken?: boolean;
  /** Whether the provider returned a 2xx status before the failure. @defaultValue false */
  accepted?: boolean;
  /** Text deltas that arrived before the failure, one output token each. @defaultValue 0 */
  outputTokens?: number;
  cause?: unknown;
}

/** A failed provider call. The message never contains the API key. */
export class ProviderError extends Error {
  readonly code = 'provider_error';
  readonly errorClass: ProviderErrorClass;
  readonly provider: string;
  readonly model: string;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly upstreamType: string | undefined;
  /** Quota headers of an HTTP error response; undefined when no response arrived. */
  readonly rateLimit: RateLimitInfo | undefined;
  readonly afterFirstToken: boolean;
  /**
   * Whether the provider returned a 2xx status, so it began the completion and
   * bills its prompt even when no text followed.
   */
  readonly accepted: boolean;
  /** Text deltas that arrived before the failure, which the provider bills as output. */
  readonly outputTokens: number;

  constructor(errorClass: ProviderErrorClass, message: string, details: ProviderErrorDetails) {
    super(`${details.provider}/${details.model}: ${message}`, { cause: details.cause });
    this.name = 'ProviderError';
    this.errorClass = errorClass;
    this.provider = details.provider;
    this.model = details.model;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.upstreamType = details.upstreamType;
    this.rateLimit = details.rateLimit;
    this.afterFirstToken = details.afterFirstToken ?? false;
    this.accepted = details.accepted ?? false;
    this.outputTokens = details.outputTokens ?? 0;
  }
}

/** Type guard for {@link ProviderError}. */
export function isProviderError(value: unknown): value is ProviderError {
  return value instanceof ProviderError;
}

/** Replaces every occurrence of `secret` in `text`, so upstream messages cannot leak a key. */
export function redactSecret(text: string, secret: string): string {
  if (secret.length === 0) {
    return text;
  }
  return text.split(secret).join('[redacted]');
}
