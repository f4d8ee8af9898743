import { describeValue } from '../tenants/config-fields.js';

/** Raised when a price table file is missing, unparsable or invalid. */
export class PriceTableError extends Error {
  readonly code = 'invalid_price_table';
  override readonly name = 'PriceTableError';

  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${field}: ${message}`, options);
  }

  /** `hint` follows the received value, such as `; write 2.5 without quotes`. */
  static invalidField(file: string, field: string, expected: string, received: unknown, hint = '') {
    return new PriceTableError(
      file,
      field,
      `expected ${expected}, received ${describeValue(received)}${hint}`,
    );
  }
}

export function isPriceTableError(error: unknown): error is PriceTableError {
  return error instanceof PriceTableError;
}

/** Raised when a provider and model pair has no price in the table. */
export class PriceNotFoundError extends Error {
  readonly code = 'price_not_found';
  override readonly name = 'PriceNotFoundError';

  constructor(
    readonly provider: string,
    readonly model: string,
    effectiveDate: string,
  ) {
    super(
      `no price for model ${model} of provider ${provider} in the price table of ${effectiveDate}; add it to the prices file`,
    );
  }
}

export function isPriceNotFoundError(error: unknown): error is PriceNotFoundError {
  return error instanceof PriceNotFoundError;
}
