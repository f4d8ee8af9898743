import type { IncomingMessage, ServerResponse } from 'node:http';

import { FaultProxyError } from './errors.js';

/** Largest request body the API reads: far above any populate list. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Reads and parses a JSON body; an empty body parses as `undefined`. */
export async function readJson(request: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request) {
    const buffer = part as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new FaultProxyError('body_too_large', `request body exceeds ${MAX_BODY_BYTES} bytes`);
    }
    parts.push(buffer);
  }
  const text = Buffer.concat(parts).toString('utf8').trim();
  if (text === '') {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FaultProxyError(
      'invalid_body',
      `invalid field "body": malformed JSON (${reason})`,
      'body',
    );
  }
}

/** Sends `body` as JSON with `status`. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** Sends an empty 204 response. */
export function sendNoContent(response: ServerResponse): void {
  response.writeHead(204);
  response.end();
}
