/** Options shared by every admission backend. */
export interface AdmissionOptions {
  /**
   * Retry-After for a budget rejection, in seconds. A budget frees up only when
   * open reservations settle below their estimate or are released.
   * @defaultValue 60
   */
  budgetRetryAfterSeconds?: number;
  /**
   * How long a ticket stays open, in seconds. The next admission of the same
   * tenant after that closes it without a charge, which frees the in-flight
   * slot and the reservation of a task whose process died before it could
   * settle. A settle that comes later finds the ticket closed.
   * @defaultValue 86400
   */
  ticketTtlSeconds?: number;
}

export interface ResolvedAdmissionOptions {
  budgetRetryAfterSeconds: number;
  ticketTtlSeconds: number;
}

/** @throws RangeError naming the option when a value is out of range. */
export function resolveAdmissionOptions(options: AdmissionOptions): ResolvedAdmissionOptions {
  const budgetRetryAfterSeconds = options.budgetRetryAfterSeconds ?? 60;
  if (!Number.isInteger(budgetRetryAfterSeconds) || budgetRetryAfterSeconds < 1) {
    throw new RangeError(
      `budgetRetryAfterSeconds must be an integer >= 1, got ${String(budgetRetryAfterSeconds)}`,
    );
  }
  const ticketTtlSeconds = options.ticketTtlSeconds ?? 86_400;
  if (!Number.isInteger(ticketTtlSeconds) || ticketTtlSeconds < 1) {
    throw new RangeError(
      `ticketTtlSeconds must be an integer >= 1, got ${String(options.ticketTtlSeconds)}`,
    );
  }
  return { budgetRetryAfterSeconds, ticketTtlSeconds };
}
