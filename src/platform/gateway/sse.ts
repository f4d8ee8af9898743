import type { FastifyReply } from 'fastify';

import type { ErrorBody } from './gateway-error.js';

/**
 * Writes a Server-Sent Events response on the raw socket. Headers go out with
 * the first event, so a failure before the first token can still be sent
 * as a plain JSON error with its own status.
 */
export class SseWriter {
  readonly #reply: FastifyReply;
  #started = false;

  constructor(reply: FastifyReply) {
    this.#reply = reply;
  }

  get started(): boolean {
    return this.#started;
  }

  send(event: 'token' | 'error' | 'done', data: unknown): void {
    const raw = this.#reply.raw;
    if (raw.writableEnded) return;
    if (!this.#started) {
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      this.#started = true;
    }
    raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Sends a JSON error response; only valid before the first event. */
  sendJsonError(status: number, body: ErrorBody, retryAfterSeconds?: number): void {
    const raw = this.#reply.raw;
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
    raw.writeHead(status, headers);
    raw.end(JSON.stringify(body));
  }

  end(): void {
    if (!this.#reply.raw.writableEnded) this.#reply.raw.end();
  }
}
