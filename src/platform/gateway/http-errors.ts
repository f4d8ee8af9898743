import type { Socket } from 'node:net';

import type { FastifyReply, FastifyRequest } from 'fastify';

import { GatewayError } from './gateway-error.js';

/** How long a client may take to send a whole request, headers and body. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

const CLIENT_ERRORS: Record<string, { status: number; reason: string; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    message: 'the request was not received in time; send the whole body at once',
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    message: 'the request headers are too large',
  },
};

/**
 * Replies to a malformed or timed-out HTTP request, which never reaches a route,
 * with the gateway's `{ error: { code, message } }` body, then closes the socket.
 */
export function gatewayClientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = error.code === undefined ? undefined : CLIENT_ERRORS[error.code];
  const { status, reason, message } = known ?? {
    status: 400,
    reason: 'Bad Request',
    message: 'the request is not valid HTTP',
  };
  const code = status === 408 ? 'request_timeout' : 'invalid_request';
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * `onRequest` hook of JSON routes: any content type but application/json is a 415, and so
 * is a Content-Encoding other than identity, because the body parser does not decompress.
 * That 415 carries `Accept-Encoding: identity`, as RFC 9110, section 15.5.16, advises.
 */
export async function requireJsonBody(request: FastifyRequest, reply: FastifyReply) {
  const header = request.headers['content-type'];
  const mediaType = header?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    const got = header === undefined ? 'no Content-Type header' : `Content-Type ${header}`;
    const message = `send the body as application/json; got ${got}`;
    throw new GatewayError(415, 'unsupported_media_type', message);
  }
  const coding = request.headers['content-encoding']?.trim();
  if (coding === undefined || coding.length === 0 || coding.toLowerCase() === 'identity') return;
  reply.header('accept-encoding', 'identity');
  const message = `Content-Encoding ${coding} is not supported; send the JSON body uncompressed, without a Content-Encoding header`;
  throw new GatewayError(415, 'unsupported_media_type', message, { field: 'Content-Encoding' });
}
