import type { FastifyReply } from 'fastify';

/** Codes of the errors the gateway itself returns. A failed task carries the code of its failure. */
export const GATEWAY_ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'unknown_route',
  'payload_too_large',
  'unauthorized',
  'priority_above_tier',
  'not_found',
  'method_not_allowed',
  'idempotency_conflict',
  'idempotency_key_reused',
  'unsupported_media_type',
  'request_exceeds_tenant_limit',
  'request_timeout',
  'exceeds_integration_timeout',
  'context_length_exceeded',
  'rate_limited',
  'budget_exhausted',
  'overloaded',
  'shutting_down',
  'not_ready',
  'store_unavailable',
  'internal_error',
] as const;

/** Code of an error the gateway returns. */
export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];

/**
 * Body of every error response: `{ error: { code, message, limit?, field? } }`,
 * plus the task `id` when the task was admitted before it failed.
 */
export interface ErrorBody {
  id?: string;
  error: { code: string; message: string; limit?: string; field?: string };
}

export interface GatewayErrorDetails {
  limit?: string;
  field?: string;
  retryAfterSeconds?: number;
}

/** An error sent to the client with its status, code and optional limit or field. */
export class GatewayError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: GatewayErrorDetails;

  constructor(status: number, code: string, message: string, details: GatewayErrorDetails = {}) {
    super(message);
    this.name = 'GatewayError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    if (this.details.limit !== undefined) body.error.limit = this.details.limit;
    if (this.details.field !== undefined) body.error.field = this.details.field;
    return body;
  }
}

/** Type guard for {@link GatewayError}. */
export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

/** Sends the error with its status and, when set, a `Retry-After` header. */
export function sendGatewayError(reply: FastifyReply, error: GatewayError): FastifyReply {
  if (error.details.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(error.details.retryAfterSeconds));
  }
  return reply.code(error.status).send(error.toBody());
}
