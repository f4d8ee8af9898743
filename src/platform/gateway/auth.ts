import type { FastifyReply, FastifyRequest } from 'fastify';

import type { Tenant } from '../tenants/tenant.js';
import { GatewayError, sendGatewayError } from './gateway-error.js';
import { headerLineCount } from './header-lines.js';
import type { TenantAuthenticator } from './ports.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated tenant; set by the bearer-key hook on `/v1` routes. */
    tenant: Tenant | undefined;
  }
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

const INVALID_KEY_MESSAGE =
  'invalid API key: no tenant has this key; send Authorization: Bearer <key> with a key whose SHA-256 hash is in the tenants file';

/**
 * Builds the `onRequest` hook that maps `Authorization: Bearer <key>` to a
 * tenant and sends 401 before the body is read. The key is never logged.
 */
export function bearerAuth(tenants: TenantAuthenticator) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    if (header === undefined || header.length === 0) {
      return unauthorized(
        reply,
        'missing Authorization header; send Authorization: Bearer <tenant key>',
      );
    }
    const lines = headerLineCount(request.raw.rawHeaders, 'authorization');
    if (lines > 1) return repeatedAuthorization(reply, lines);
    if (!/^Bearer\b/i.test(header)) {
      return unauthorized(
        reply,
        'Authorization header lacks the Bearer scheme; send Authorization: Bearer <tenant key>',
      );
    }
    const key = BEARER.exec(header)?.[1];
    if (key === undefined) return unauthorized(reply, malformedBearerMessage(header));
    const tenant = tenants.authenticate(key);
    if (tenant === undefined) return unauthorized(reply, INVALID_KEY_MESSAGE);
    request.tenant = tenant;
  };
}

/** Describes a Bearer header that carries no key or several words, without quoting them. */
function malformedBearerMessage(header: string): string {
  const credentials = header.replace(/^Bearer/i, '').trim();
  const problem =
    credentials === ''
      ? 'Authorization header has no key after Bearer'
      : 'Authorization header has more than one word after Bearer';
  return `${problem}; send Authorization: Bearer <tenant key>, with the key as one word`;
}

/** Returns the tenant the hook stored; the hook runs before every `/v1` handler. */
export function requireTenant(request: FastifyRequest): Tenant {
  if (request.tenant === undefined)
    throw new GatewayError(401, 'unauthorized', INVALID_KEY_MESSAGE);
  return request.tenant;
}

/**
 * Sends 400 for an Authorization header sent more than once. Node keeps the first line and
 * drops the others, so a proxy in front that reads another line would see another tenant.
 * RFC 6750, section 3.1, names a repeated credential an `invalid_request`, rejected with 400.
 */
async function repeatedAuthorization(reply: FastifyReply, lines: number): Promise<void> {
  reply.header('www-authenticate', 'Bearer error="invalid_request"');
  const message = `invalid header Authorization: sent ${lines} times; send it once, with one tenant key`;
  const error = new GatewayError(400, 'invalid_request', message, { field: 'Authorization' });
  await sendGatewayError(reply, error);
}

async function unauthorized(reply: FastifyReply, message: string): Promise<void> {
  reply.header('www-authenticate', 'Bearer');
  await sendGatewayError(reply, new GatewayError(401, 'unauthorized', message));
}
