import {
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  STATUS_CODES,
  ServerResponse,
} from 'node:http';

/**
 * Reason phrases of the statuses scalegate sends that Node's `http.STATUS_CODES` lacks, for
 * which Node writes the status line `unknown`. The gateway sends 499 for a task whose client
 * closed the request, nginx's convention. The mock Anthropic-format provider sends 529 for
 * an overloaded API, named after Anthropic's `overloaded_error`.
 */
export const NONSTANDARD_REASON_PHRASES: Readonly<Record<number, string>> = {
  499: 'Client Closed Request',
  529: 'Overloaded',
};

/** Names of the status classes in RFC 9110, section 15. */
const CLASS_REASON_PHRASES: Readonly<Record<number, string>> = {
  1: 'Informational',
  2: 'Successful',
  3: 'Redirection',
  4: 'Client Error',
  5: 'Server Error',
};

/**
 * Returns the reason phrase of an HTTP status: Node's, then scalegate's own for 499 and 529,
 * then the name of the status class, such as `Client Error` for an injected 460. A status
 * outside 100 to 599 gets `Unknown`.
 */
export function reasonPhrase(status: number): string {
  return (
    STATUS_CODES[status] ??
    NONSTANDARD_REASON_PHRASES[status] ??
    CLASS_REASON_PHRASES[Math.floor(status / 100)] ??
    'Unknown'
  );
}

/**
 * A `ServerResponse` whose status line carries {@link reasonPhrase} where Node's would read
 * `unknown`. Pass it as the `ServerResponse` option of `http.createServer`. A reason phrase
 * given to `writeHead`, or set in `statusMessage` before it, is kept.
 */
export class ReasonPhraseResponse<
  Request extends IncomingMessage = IncomingMessage,
> extends ServerResponse<Request> {
  override writeHead(
    statusCode: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    if (typeof reasonOrHeaders === 'string') {
      return super.writeHead(statusCode, reasonOrHeaders, headers);
    }
    const reason = this.statusMessage || reasonPhrase(statusCode);
    return super.writeHead(statusCode, reason, reasonOrHeaders);
  }
}
