import { describeValue } from './config-fields.js';

/** Raised when a tenants or demo-keys file is missing, unparsable or invalid. */
export class TenantConfigError extends Error {
  readonly code = 'invalid_tenant_config';
  override readonly name = 'TenantConfigError';

  /** The problem without the file and field, such as `duplicate id tenant-a`. */
  readonly detail: string;

  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
  ) {
    super(`${file}: ${field}: ${message}`);
    this.detail = message;
  }

  /**
   * Combines the problems of one file into one error, each on its own line. Its `field` is
   * the first problem's.
   */
  static combine(file: string, errors: readonly TenantConfigError[]): TenantConfigError {
    const [first] = errors;
    if (first === undefined) throw new RangeError('no tenant config problem to combine');
    if (errors.length === 1) return first;
    const lines = errors.map((error) => `  ${error.field}: ${error.detail}`);
    const combined = new TenantConfigError(file, first.field, first.detail);
    combined.message = [`${file}: ${errors.length} problems`, ...lines].join('\n');
    return combined;
  }

  /**
   * Builds the error for a field whose value has the wrong type or range. `hint` follows the
   * received value, such as `; write 25 without quotes`.
   */
  static invalidField(file: string, field: string, expected: string, received: unknown, hint = '') {
    return new TenantConfigError(
      file,
      field,
      `expected ${expected}, received ${describeValue(received)}${hint}`,
    );
  }
}

export function isTenantConfigError(error: unknown): error is TenantConfigError {
  return error instanceof TenantConfigError;
}
