/** Raised when an admission request or a settle call carries an invalid value. */
export class AdmissionInputError extends RangeError {
  readonly code = 'invalid_admission_input';
  override readonly name = 'AdmissionInputError';
}

export function isAdmissionInputError(error: unknown): error is AdmissionInputError {
  return error instanceof AdmissionInputError;
}
