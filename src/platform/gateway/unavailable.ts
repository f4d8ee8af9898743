import { withoutAddresses } from '../runtime/internal-addresses.js';
import { isOperationTimeoutError } from '../timeout.js';
import { GatewayError } from './gateway-error.js';

/** Socket error codes that mean the connection to the store or queue server failed. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTCONN',
  'EHOSTUNREACH',
]);

/** Messages of the errors ioredis 5 raises for a command it could not send or complete. */
const CONNECTION_ERROR_MESSAGES = [
  'Connection is closed.',
  "Stream isn't writeable",
  'Command timed out',
  'Reached the max retries per request limit',
];

/**
 * Returns whether `error` means the store or queue server did not reply: a bounded
 * wait that timed out, a socket error, or an ioredis error for a lost connection.
 * Replies that Redis sent, such as a script error, are not among them.
 */
export function isUnavailableError(error: unknown): boolean {
  if (isOperationTimeoutError(error)) return true;
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && CONNECTION_ERROR_CODES.has(code)) return true;
  return CONNECTION_ERROR_MESSAGES.some((message) => error.message.startsWith(message));
}

/**
 * Builds the 503 `store_unavailable` error for a store or queue call that did not complete.
 * Its message goes to tenants, so the server's address is left out. `/readyz` and the
 * platform's log name it for operators.
 */
export function storeUnavailableError(storeName: string, error: unknown): GatewayError {
  return new GatewayError(
    503,
    'store_unavailable',
    `${storeName} is unavailable (${tenantUnavailableReason(error)}); retry after 1 s`,
    { retryAfterSeconds: 1 },
  );
}

/** Returns {@link unavailableReason} with each network address replaced by `its server`. */
export function tenantUnavailableReason(error: unknown): string {
  return withoutAddresses(unavailableReason(error), 'its server');
}

/**
 * Describes an unavailable-store error in a few words. ioredis 5 raises
 * MaxRetriesPerRequestError for a command whose connection closed and whose
 * reconnect attempts failed.
 */
export function unavailableReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'MaxRetriesPerRequestError') return 'no connection, reconnecting';
  return error.message;
}
