import type { ProviderError, ProviderErrorClass } from '../providers/errors.js';
import type { AttemptRecord } from '../task.js';

/** Machine-readable router failure codes. `httpStatus` gives the gateway's HTTP status for each. */
export type RouterErrorCode =
  | 'unknown_route'
  | 'output_limit_exceeded'
  | 'context_length_exceeded'
  | 'provider_unavailable'
  | 'deadline_exceeded'
  | 'upstream_timeout'
  | 'upstream_auth_failed'
  | 'upstream_rate_limited'
  | 'upstream_rejected'
  | 'upstream_error'
  | 'stream_interrupted'
  | 'client_aborted'
  | 'budget_exhausted';

/** Details shared by every router failure. */
export interface RouterErrorDetails {
  errorClass?: ProviderErrorClass;
  /** Status the provider returned, when the failure was an HTTP error. */
  upstreamStatus?: number;
  /** Milliseconds the client should wait before retrying. */
  retryAfterMs?: number;
  attempts?: AttemptRecord[];
  cause?: unknown;
}

/** A task the router could not complete. */
export class RouterError extends Error {
  readonly code: RouterErrorCode;
  /** Status the gateway should send: 502 for upstream faults, 503 when no capacity, 504 on time. */
  readonly httpStatus: number;
  readonly errorClass: ProviderErrorClass | undefined;
  readonly upstreamStatus: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly attempts: AttemptRecord[];

  constructor(code: RouterErrorCode, message: string, details: RouterErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.name = 'RouterError';
    this.code = code;
    this.httpStatus = HTTP_STATUS[code];
    this.errorClass = details.errorClass;
    this.upstreamStatus = details.upstreamStatus;
    this.retryAfterMs = details.retryAfterMs;
    this.attempts = details.attempts ?? [];
  }
}

/** A stream that failed after its first token reached the client, so it could not fail over. */
export class StreamInterruptedError extends RouterError {
  /** The text already sent to the client. */
  readonly partialText: string;

  constructor(cause: ProviderError, partialText: string, attempts: AttemptRecord[]) {
    const message = `stream interrupted after the first token: ${cause.message}; ${streamInterruptedHint(cause)}`;
    super('stream_interrupted', message, { errorClass: cause.errorClass, attempts, cause });
    this.name = 'StreamInterruptedError';
    this.partialText = partialText;
  }
}

/**
 * Returns the next step after a stream failed past its first token: raise the route limit
 * that ended a stall or the deadline, or check the provider's stream. The fault proxy names
 * each provider's proxy after the provider, so the hint names its toxics path.
 */
function streamInterruptedHint(cause: ProviderError): string {
  const provider = cause.provider;
  const stream =
    `check ${provider}'s stream: the faults of a mock provider (GET /_control/faults) ` +
    `and the toxics of its fault proxy (GET /proxies/${provider}/toxics)`;
  switch (cause.errorClass) {
    case 'stream_stalled':
      return `raise the route's stallTimeoutMs if ${provider} pauses longer mid-stream, or ${stream}`;
    case 'deadline_exceeded':
      return `raise the route's deadlineMs if ${provider} streams for longer, or ${stream}`;
    default:
      return stream;
  }
}

/** Type guard for {@link RouterError}, subclasses included. */
export function isRouterError(value: unknown): value is RouterError {
  return value instanceof RouterError;
}

/** Type guard for {@link StreamInterruptedError}. */
export function isStreamInterruptedError(value: unknown): value is StreamInterruptedError {
  return value instanceof StreamInterruptedError;
}

const HTTP_STATUS: Record<RouterErrorCode, number> = {
  unknown_route: 404,
  output_limit_exceeded: 400,
  context_length_exceeded: 400,
  provider_unavailable: 503,
  deadline_exceeded: 504,
  upstream_timeout: 504,
  upstream_auth_failed: 502,
  upstream_rate_limited: 503,
  upstream_rejected: 502,
  upstream_error: 502,
  stream_interrupted: 502,
  client_aborted: 499,
  budget_exhausted: 429,
};

/** HTTP status of a router error code; undefined for a code the router does not use. */
export function routerErrorStatus(code: string): number | undefined {
  return Object.hasOwn(HTTP_STATUS, code) ? HTTP_STATUS[code as RouterErrorCode] : undefined;
}

/**
 * Router code for a provider error class. A provider's 401 or 403 is the
 * gateway's own credential problem, so it maps to 502 `upstream_auth_failed`
 * and never to the tenant-facing 401.
 */
export const ERROR_CLASS_CODES: Record<ProviderErrorClass, RouterErrorCode> = {
  status_400: 'upstream_rejected',
  context_length_exceeded: 'context_length_exceeded',
  status_401: 'upstream_auth_failed',
  status_403: 'upstream_auth_failed',
  status_404: 'upstream_rejected',
  status_408: 'upstream_timeout',
  status_413: 'upstream_rejected',
  status_429: 'upstream_rate_limited',
  status_4xx: 'upstream_rejected',
  status_5xx: 'upstream_error',
  status_529: 'upstream_rate_limited',
  first_token_timeout: 'upstream_timeout',
  deadline_exceeded: 'deadline_exceeded',
  connection_error: 'upstream_error',
  stream_error_event: 'upstream_error',
  stream_truncated: 'upstream_error',
  stream_stalled: 'upstream_timeout',
  malformed_response: 'upstream_error',
  aborted: 'client_aborted',
};

/**
 * Formats a task's attempts as one line naming each, such as
 * `provider-a/gpt-4o: status_5xx, provider-b/claude-sonnet: skipped (throttled)`.
 */
export function summariseAttempts(attempts: readonly AttemptRecord[]): string {
  return attempts
    .map((attempt) => {
      const what =
        attempt.outcome === 'skipped'
          ? `skipped (${attempt.errorClass ?? 'unavailable'})`
          : (attempt.errorClass ?? attempt.outcome);
      return `${attempt.provider}/${attempt.model}: ${what}`;
    })
    .join(', ');
}

/** Appends the attempt summary to a failure message when there were attempts. */
export function withAttempts(message: string, attempts: readonly AttemptRecord[]): string {
  return attempts.length === 0 ? message : `${message}; attempts: ${summariseAttempts(attempts)}`;
}

/** Wraps the provider error that ended a task in the router error the gateway maps to HTTP. */
export function routerErrorFrom(error: ProviderError, attempts: AttemptRecord[]): RouterError {
  const message = withAttempts(error.message, attempts);
  return new RouterError(ERROR_CLASS_CODES[error.errorClass], message, {
    errorClass: error.errorClass,
    upstreamStatus: error.status,
    retryAfterMs: error.retryAfterMs,
    attempts,
    cause: error,
  });
}
