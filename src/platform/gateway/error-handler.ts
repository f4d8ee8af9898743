import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

import { GatewayError, isGatewayError, sendGatewayError } from './gateway-error.js';
import { validationGatewayError } from './validation-error.js';

/** Longest path parameter the gateway accepts; task ids are 36-character UUIDs. */
export const MAX_TASK_ID_LENGTH = 100;

/** Maps Fastify's body-parser codes to gateway errors. */
function parserError(error: FastifyError, bodyLimitBytes: number): GatewayError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError(400, 'invalid_json', `malformed JSON body: ${error.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError(
        413,
        'payload_too_large',
        `request body exceeds ${bodyLimitBytes} bytes; send fewer or shorter messages, or inputTokens in place of a long prompt`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError(415, 'unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      // The task id is the only path parameter.
      return new GatewayError(
        414,
        'invalid_request',
        `task id is longer than ${MAX_TASK_ID_LENGTH} characters; pass the id that POST /v1/tasks returned`,
      );
    case 'FST_ERR_BAD_URL':
      return new GatewayError(400, 'invalid_request', 'the URL is not valid');
    default:
      return undefined;
  }
}

/**
 * Builds the error handler: every error becomes `{ error: { code, message } }`
 * with its status. Unexpected errors are logged and sent as a 500 without detail.
 */
export function gatewayErrorHandler(bodyLimitBytes: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isGatewayError(error)) return sendGatewayError(reply, error);
    if (error.validation !== undefined) {
      const data = error.validationContext === 'params' ? request.params : request.body;
      return sendGatewayError(reply, validationGatewayError(error.validation, data));
    }
    const parsed = parserError(error, bodyLimitBytes);
    if (parsed !== undefined) return sendGatewayError(reply, parsed);
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendGatewayError(
        reply,
        new GatewayError(error.statusCode, 'invalid_request', error.message),
      );
    }
    request.log.error({ err: error }, 'request failed');
    return sendGatewayError(
      reply,
      new GatewayError(500, 'internal_error', 'internal error; see the gateway log'),
    );
  };
}

/** Sends 404 for an unknown path, and the list of endpoints. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const endpoints = 'POST /v1/tasks, GET /v1/tasks/:id, GET /healthz, GET /readyz, GET /metrics';
  const message = `no endpoint ${request.method} ${request.url.split('?')[0]}; valid endpoints: ${endpoints}`;
  return sendGatewayError(reply, new GatewayError(404, 'not_found', message));
}
