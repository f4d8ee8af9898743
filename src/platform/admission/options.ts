/** Options shared by every admission backend. */
export interface AdmissionOptions {
  /**
   * Retry-After for a budget rejection, in seconds. A budget frees up only when
   * open reservations settle below their estimate or are released.
   * @defaultValue 60
   */
  budgetRetryAfterSeconds?: number;
}

export interface ResolvedAdmissionOptions {
  budgetRetryAfterSeconds: number;
}

/** @throws RangeError naming the option when a value is out of range. */
export function resolveAdmissionOptions(options: AdmissionOptions): ResolvedAdmissionOptions {
  const budgetRetryAfterSeconds = options.budgetRetryAfterSeconds ?? 60;
  if (!Number.isInteger(budgetRetryAfterSeconds) || budgetRetryAfterSeconds < 1) {
    throw new RangeError(
      `budgetRetryAfterSeconds must be an integer >= 1, got ${String(budgetRetryAfterSeconds)}`,
    );
  }
  return { budgetRetryAfterSeconds };
}
