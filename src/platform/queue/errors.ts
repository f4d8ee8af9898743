/** Errors raised by queue drivers and handlers. Tell them apart by `code`, never by message. */

/** Thrown by a handler to fail its job at once, without retry. */
export class NonRetryableError extends Error {
  readonly code = 'non_retryable' as const;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

export function isNonRetryableError(error: unknown): error is NonRetryableError {
  return error instanceof Error && (error as { code?: unknown }).code === 'non_retryable';
}

/**
 * Thrown by a handler that cannot start its job yet, such as when the job's tenant already
 * runs its cap of tasks. The job waits `delayMs` and is delivered again. Its attempt number
 * stays the same, so a deferral never counts towards `maxAttempts`.
 */
export class DeferError extends Error {
  readonly code = 'deferred' as const;

  constructor(
    readonly delayMs: number,
    message = `job deferred for ${delayMs} ms`,
  ) {
    super(message);
    this.name = 'DeferError';
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new RangeError(`invalid defer delay ${delayMs} ms; pass a finite number >= 0`);
    }
  }
}

export function isDeferError(error: unknown): error is DeferError {
  return error instanceof Error && (error as { code?: unknown }).code === 'deferred';
}

/** Reason a job failed after stalling more than `maxStalls` times. */
export class StallLimitError extends Error {
  readonly code = 'stall_limit' as const;

  constructor(
    readonly jobId: string,
    readonly stalls: number,
  ) {
    super(`job ${jobId} stalled ${stalls} times, more than the allowed limit`);
    this.name = 'StallLimitError';
  }
}

export function isStallLimitError(error: unknown): error is StallLimitError {
  return error instanceof Error && (error as { code?: unknown }).code === 'stall_limit';
}

/** Raised by enqueue or consume after the queue was closed. */
export class QueueClosedError extends Error {
  readonly code = 'queue_closed' as const;

  constructor(readonly queueName: string) {
    super(`queue ${queueName} is closed`);
    this.name = 'QueueClosedError';
  }
}

export function isQueueClosedError(error: unknown): error is QueueClosedError {
  return error instanceof Error && (error as { code?: unknown }).code === 'queue_closed';
}

/** Converts whatever a handler threw into an Error. */
export function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
