import type { IncomingMessage, ServerResponse } from 'node:http';

import type { FaultSettings } from './fault-config.js';
import { sendJson } from './http-io.js';
import type { RateLimitDecision } from './rate-limiter.js';
import type { ResponseOutcome } from './responder.js';
import { errorKindForStatus, type ProviderError, type WireFormat } from './wire-format.js';

/** Per-request values passed between the steps of a completion request. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  format: WireFormat;
  keyLabel: string;
  modelLabel: string;
  startedAt: number;
  /** Request id for error responses, because both provider APIs send one on every response. */
  requestId: string;
}

/** Sends `error` in the exchange's wire format, with the request id header. */
export function sendError(exchange: Exchange, error: ProviderError, headers = {}): ResponseOutcome {
  const { format, requestId } = exchange;
  const body = format.errorBody(error, requestId);
  sendJson(exchange.res, error.status, body, { ...headers, [format.requestIdHeader]: requestId });
  return { status: error.status, fault: undefined, outputTokensSent: 0 };
}

/** Per-minute limits that 429 fault responses report, with nothing remaining. */
export interface ReportedLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

/** Applies the faults decided before any generation: hang, 429 storm, injected error status. */
export function injectFault(
  exchange: Exchange,
  faults: FaultSettings,
  roll: number,
  report: { now: number; limits: ReportedLimits },
): ResponseOutcome | undefined {
  if (faults.hangBeforeHeaders === true) {
    return { status: 'none', fault: 'hang', outputTokensSent: 0 };
  }
  const retryAfterSeconds = faults.retryAfterSeconds;
  if (faults.rateLimitStorm === true) {
    const message = 'Rate limit reached for requests. Please try again later.';
    const outcome = sendExhausted(exchange, message, retryAfterSeconds ?? 1, report);
    return { ...outcome, fault: 'rate_limit_storm' };
  }
  if (roll < (faults.errorRate ?? 0)) {
    const status = faults.errorStatus ?? 500;
    const outcome =
      status === 429
        ? sendExhausted(exchange, injectedMessage(status), retryAfterSeconds ?? 1, report)
        : sendInjected(exchange, status, retryAfterSeconds);
    return { ...outcome, fault: 'error_status' };
  }
  return undefined;
}

function injectedMessage(status: number): string {
  return status === 529 || status === 503 ? 'Overloaded' : `Injected error with status ${status}.`;
}

function sendInjected(
  exchange: Exchange,
  status: number,
  retryAfterSeconds: number | undefined,
): ResponseOutcome {
  const headers: Record<string, string> =
    retryAfterSeconds === undefined ? {} : { 'retry-after': String(Math.ceil(retryAfterSeconds)) };
  const error = { status, kind: errorKindForStatus(status), message: injectedMessage(status) };
  return sendError(exchange, error, headers);
}

/**
 * Sends 429 in the provider's shape with its rate-limit headers: the profile's limits,
 * 0 remaining, resets after `retryAfterSeconds`, and a Retry-After of at least one second.
 */
function sendExhausted(
  exchange: Exchange,
  message: string,
  retryAfterSeconds: number,
  report: { now: number; limits: ReportedLimits },
): ResponseOutcome {
  const resetMs = retryAfterSeconds * 1000;
  const { requestsPerMinute, tokensPerMinute } = report.limits;
  const state = {
    requests: { limit: requestsPerMinute, remaining: 0, resetMs },
    tokens: { limit: tokensPerMinute, remaining: 0, resetMs },
  };
  const headers = {
    ...exchange.format.rateLimitHeaders(state, report.now),
    'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  };
  const error: ProviderError = { status: 429, kind: 'rate_limit', limitedBy: 'requests', message };
  return sendError(exchange, error, headers);
}

/** Sends 429 with the rate-limit headers and a Retry-After of at least one second. */
export function sendRateLimited(
  exchange: Exchange,
  decision: RateLimitDecision,
  limitHeaders: Record<string, string>,
): ResponseOutcome {
  const limitedBy = decision.limitedBy ?? 'requests';
  if (limitedBy === 'tokens' && decision.requestedTokens > decision.tokens.limit) {
    // No wait lets the request fit, so the response has no Retry-After, as a provider's
    // response to a request larger than its per-minute token limit does.
    const error: ProviderError = {
      status: 429,
      kind: 'rate_limit',
      limitedBy,
      message: `Request too large for tokens per min: Limit ${decision.tokens.limit}, Requested ${decision.requestedTokens}. The input or output tokens must be reduced in order to run successfully.`,
    };
    return sendError(exchange, error, limitHeaders);
  }
  const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  const error: ProviderError = {
    status: 429,
    kind: 'rate_limit',
    limitedBy,
    message: `Rate limit reached for ${limitedBy} per minute. Please try again in ${retryAfterSeconds}s.`,
  };
  return sendError(exchange, error, { ...limitHeaders, 'retry-after': String(retryAfterSeconds) });
}
