import type { FastifyInstance } from 'fastify';

import { GatewayError } from './gateway-error.js';

/**
 * Methods that get a 405 on a path that serves another one. These are the RFC 9110 methods
 * that Fastify routes, except CONNECT and HEAD, because Fastify adds a HEAD route to every
 * GET route.
 */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const;

/**
 * Rejects the methods `url` does not serve with 405 and an Allow header naming `allowed`.
 * `use` completes the message, such as `GET /healthz for liveness`. A POST to
 * `/v1/tasks/` with its trailing slash matches `/v1/tasks/:id` with an empty id, so its
 * message points to `POST /v1/tasks`.
 */
export function rejectOtherMethods(
  app: FastifyInstance,
  url: string,
  allowed: string,
  use: string,
): void {
  app.route({
    method: METHODS.filter((method) => method !== allowed),
    url,
    handler: async (request, reply) => {
      reply.header('allow', allowed);
      const path = request.url.split('?')[0];
      if (request.method === 'POST' && path === '/v1/tasks/') {
        const message =
          'POST /v1/tasks/ is not supported; use POST /v1/tasks, without the trailing slash, to create a task';
        throw new GatewayError(405, 'method_not_allowed', message);
      }
      const message = `${request.method} ${url} is not supported; use ${use}`;
      throw new GatewayError(405, 'method_not_allowed', message);
    },
  });
}
