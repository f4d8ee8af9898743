import type { FastifyReply, FastifyRequest } from 'fastify';

import type { GatewayMetrics } from './metrics.js';

/** Status counted for a request whose client closed the connection before the response ended. */
export const CLIENT_CLOSED_STATUS = 499;

/** `route` label of a request that no route matches, such as a 404 for an unknown path. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * `route` label of a request that Fastify rejected while parsing its URL, before routing,
 * such as a 414 for a task id over 100 characters or a 400 for bad percent-encoding.
 */
export const REJECTED_BEFORE_ROUTING = 'rejected_before_routing';

/** Raw responses already being counted, so a request that passes two entry points counts once. */
const counted = new WeakSet<object>();

/**
 * Counts the request once, when its response closes: with the status sent, or 499
 * when the client closed the connection first. Listening on the raw response also
 * counts hijacked streams and URL errors raised before routing, which skip
 * Fastify's `onResponse` hook.
 */
export function countOnClose(
  metrics: GatewayMetrics,
  request: FastifyRequest,
  reply: FastifyReply,
  route: string,
): void {
  const raw = reply.raw;
  if (counted.has(raw)) return;
  counted.add(raw);
  const startedAt = performance.now();
  let finished = false;
  raw.once('finish', () => {
    finished = true;
  });
  raw.once('close', () => {
    const status = finished ? raw.statusCode : CLIENT_CLOSED_STATUS;
    const seconds = (performance.now() - startedAt) / 1000;
    metrics.observeRequest(request.method, route, status, seconds);
  });
}
