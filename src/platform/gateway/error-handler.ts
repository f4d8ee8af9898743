import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

import { GatewayError, isGatewayError, sendGatewayError } from './gateway-error.js';
import { JSON_FIX } from './json-body.js';
import { validationGatewayError } from './validation-error.js';

/** Longest path parameter the gateway accepts; task ids are 36-character UUIDs. */
export const MAX_TASK_ID_LENGTH = 100;

/** Maximum length of a request path quoted in a message, in characters. */
const MAX_QUOTED_URL_CHARS = 120;

/** Maps Fastify's body-parser and URL codes to gateway errors. */
function parserError(
  error: FastifyError,
  bodyLimitBytes: number,
  url: string,
): GatewayError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError(
        400,
        'invalid_json',
        `malformed JSON body: ${error.message}; ${JSON_FIX}`,
      );
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
        `task id is longer than ${MAX_TASK_ID_LENGTH} characters, got ${lastSegmentLength(url)}; pass the id that POST /v1/tasks returned`,
      );
    case 'FST_ERR_BAD_URL':
      // Fastify raises it when a path segment does not percent-decode, such as `%zz`.
      return new GatewayError(
        400,
        'invalid_request',
        `invalid URL ${quoteUrl(url)}: a % in the path must start a percent-encoded byte, such as %20; send the task id that POST /v1/tasks returned`,
      );
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
    if (error.validation !== undefined && error.validationContext === 'params') {
      return sendGatewayError(reply, taskIdError(error.validation, request.params));
    }
    if (error.validation !== undefined) {
      return sendGatewayError(reply, validationGatewayError(error.validation, request.body));
    }
    const parsed = parserError(error, bodyLimitBytes, request.url);
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

/**
 * Maps a task id that fails the params schema to a 400. The router has already rejected an
 * id over MAX_TASK_ID_LENGTH, so an empty id, as in `GET /v1/tasks/`, is what remains.
 */
function taskIdError(
  issues: Parameters<typeof validationGatewayError>[0],
  params: unknown,
): GatewayError {
  if (issues[0]?.keyword !== 'minLength') return validationGatewayError(issues, params);
  return new GatewayError(
    400,
    'invalid_request',
    'task id is empty; send GET /v1/tasks/<id> with the id that POST /v1/tasks returned',
  );
}

function lastSegmentLength(url: string): number {
  const path = url.split('?')[0] ?? '';
  return path.length - path.lastIndexOf('/') - 1;
}

function quoteUrl(url: string): string {
  const path = url.split('?')[0] ?? '';
  if (path.length <= MAX_QUOTED_URL_CHARS) return path;
  return `${path.slice(0, MAX_QUOTED_URL_CHARS)}... (${path.length} characters)`;
}

/** Sends 404 for an unknown path, and the list of endpoints. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const endpoints = 'POST /v1/tasks, GET /v1/tasks/:id, GET /healthz, GET /readyz, GET /metrics';
  const message = `no endpoint ${request.method} ${request.url.split('?')[0]}; valid endpoints: ${endpoints}`;
  return sendGatewayError(reply, new GatewayError(404, 'not_found', message));
}
