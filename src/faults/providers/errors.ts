/** Raised when a provider profile file is missing, unreadable or invalid. */
export class ProviderProfileError extends Error {
  readonly code = 'invalid_provider_profile';
  /** Profile file that failed to load. */
  readonly file: string;
  /** Dotted path of the invalid field, or `''` when the whole file is at fault. */
  readonly field: string;

  constructor(file: string, field: string, message: string, options?: ErrorOptions) {
    const subject = field === '' ? 'the file' : `field ${field}`;
    super(`invalid provider profile ${file}: ${subject} ${message}`, options);
    this.name = 'ProviderProfileError';
    this.file = file;
    this.field = field;
  }
}

/** Returns whether `value` is a {@link ProviderProfileError}. */
export function isProviderProfileError(value: unknown): value is ProviderProfileError {
  return value instanceof ProviderProfileError;
}

/** Raised when a fault configuration is invalid; `field` names the offending field. */
export class FaultConfigError extends Error {
  readonly code = 'invalid_fault_config';
  /** Dotted path of the invalid field, such as `models.gpt-4o.errorRate`. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(`invalid fault config: field ${field === '' ? '(root)' : field} ${message}`);
    this.name = 'FaultConfigError';
    this.field = field;
  }
}

/** Returns whether `value` is a {@link FaultConfigError}. */
export function isFaultConfigError(value: unknown): value is FaultConfigError {
  return value instanceof FaultConfigError;
}
