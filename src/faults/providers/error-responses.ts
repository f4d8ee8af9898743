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
}

/** Sends `error` in the exchange's wire format. */
export function sendError(exchange: Exchange, error: ProviderError, headers = {}): ResponseOutcome {
  sendJson(exchange.res, error.status, exchange.format.errorBody(error), headers);
  return { status: error.status, fault: undefined, outputTokensSent: 0 };
}

/** Applies the faults decided before any generation: hang, 429 storm, injected error status. */
export function injectFault(
  exchange: Exchange,
  faults: FaultSettings,
  roll: number,
  now: number,
): ResponseOutcome | undefined {
  if (faults.hangBeforeHeaders === true) {
    return { status: 'none', fault: 'hang', outputTokensSent: 0 };
  }
  const retryAfterSeconds = faults.retryAfterSeconds;
  const retryHeaders: Record<string, string> =
    retryAfterSeconds === undefined ? {} : { 'retry-after': String(Math.ceil(retryAfterSeconds)) };
  if (faults.rateLimitStorm === true) {
    return sendStorm(exchange, retryAfterSeconds ?? 1, now);
  }
  if (roll < (faults.errorRate ?? 0)) {
    const status = faults.errorStatus ?? 500;
    const error = { status, kind: errorKindForStatus(status), message: injectedMessage(status) };
    const outcome = sendError(exchange, error, retryHeaders);
    return { ...outcome, fault: 'error_status' };
  }
  return undefined;
}

function injectedMessage(status: number): string {
  return status === 529 || status === 503 ? 'Overloaded' : `Injected error with status ${status}.`;
}

function sendStorm(exchange: Exchange, retryAfterSeconds: number, now: number): ResponseOutcome {
  const resetMs = retryAfterSeconds * 1000;
  const exhausted = { limit: 0, remaining: 0, resetMs };
  const headers = {
    ...exchange.format.rateLimitHeaders({ requests: exhausted, tokens: exhausted }, now),
    'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  };
  const error: ProviderError = {
    status: 429,
    kind: 'rate_limit',
    limitedBy: 'requests',
    message: 'Rate limit reached for requests. Please try again later.',
  };
  const outcome = sendError(exchange, error, headers);
  return { ...outcome, fault: 'rate_limit_storm' };
}

/** Sends 429 with the rate-limit headers and a Retry-After of at least one second. */
export function sendRateLimited(
  exchange: Exchange,
  decision: RateLimitDecision,
  limitHeaders: Record<string, string>,
): ResponseOutcome {
  const limitedBy = decision.limitedBy ?? 'requests';
  const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  const error: ProviderError = {
    status: 429,
    kind: 'rate_limit',
    limitedBy,
    message: `Rate limit reached for ${limitedBy} per minute. Please try again in ${retryAfterSeconds}s.`,
  };
  return sendError(exchange, error, { ...limitHeaders, 'retry-after': String(retryAfterSeconds) });
}
