/** Reasons a serverless invocation fails before or instead of returning the handler's value. */
export type ServerlessErrorCode =
  'throttled' | 'function_timeout' | 'integration_timeout' | 'emulator_closed';

/**
 * A failed serverless invocation. `throttled` means the concurrency cap or the
 * scale-out rate left no instance; `integration_timeout` means the client was
 * sent a gateway timeout while the function may still be running.
 */
export class ServerlessError extends Error {
  readonly code: ServerlessErrorCode;
  /** Seconds after which a retry may find capacity; set for `throttled`. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ServerlessErrorCode,
    message: string,
    retryAfterSeconds?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ServerlessError';
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Type guard for {@link ServerlessError}. */
export function isServerlessError(value: unknown): value is ServerlessError {
  return value instanceof ServerlessError;
}
