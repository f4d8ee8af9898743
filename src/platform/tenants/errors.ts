import { describeValue } from './config-fields.js';

/** Raised when a tenants or demo-keys file is missing, unparsable or invalid. */
export class TenantConfigError extends Error {
  readonly code = 'invalid_tenant_config';
  override readonly name = 'TenantConfigError';

  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
  ) {
    super(`${file}: ${field}: ${message}`);
  }

  /** Builds the error for a field whose value has the wrong type or range. */
  static invalidField(file: string, field: string, expected: string, received: unknown) {
    return new TenantConfigError(
      file,
      field,
      `expected ${expected}, received ${describeValue(received)}`,
    );
  }
}

export function isTenantConfigError(error: unknown): error is TenantConfigError {
  return error instanceof TenantConfigError;
}
