import type { IncomingMessage, ServerResponse } from 'node:http';

/** Raised when a request body exceeds the size limit. */
export class BodyTooLargeError extends Error {
  readonly code = 'body_too_large';

  constructor(limitBytes: number) {
    super(`request body exceeds ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Returns whether `value` is a {@link BodyTooLargeError}. */
export function isBodyTooLargeError(value: unknown): value is BodyTooLargeError {
  return value instanceof BodyTooLargeError;
}

/** Reads the whole request body as UTF-8, rejecting with BodyTooLargeError past `limitBytes`. */
export function readBody(request: IncomingMessage, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        request.removeAllListeners('data');
        request.resume();
        reject(new BodyTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

/** Sends a complete JSON response with a `content-length`. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** Headers of a server-sent events response. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
} as const;

/**
 * Flushes what was written, then closes the socket without ending the HTTP message, so the
 * client sees the connection end mid-body.
 */
export function cutConnection(response: ServerResponse): void {
  const socket = response.socket;
  if (socket === null) {
    return;
  }
  response.uncork();
  socket.once('finish', () => socket.destroy());
  socket.end();
}
