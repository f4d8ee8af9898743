/** Raised when an operation does not settle within its time limit. */
export class OperationTimeoutError extends Error {
  readonly code = 'operation_timeout';
  readonly operation: string;
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number) {
    super(`${operation} timed out after ${timeoutMs} ms`);
    this.name = 'OperationTimeoutError';
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/** Type guard for {@link OperationTimeoutError}. */
export function isOperationTimeoutError(value: unknown): value is OperationTimeoutError {
  return value instanceof OperationTimeoutError;
}

/**
 * Waits for `promise` at most `timeoutMs`. Only the wait ends at the timeout:
 * the operation goes on, and whatever it does later still happens.
 * @throws OperationTimeoutError naming `operation` when the time runs out first.
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, operation: string) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new OperationTimeoutError(operation, timeoutMs)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
