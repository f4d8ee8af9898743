/**
 * Field readers for YAML configuration files. Each reader reports a failure
 * through `fail(field, expected, received)`, so every config loader raises its
 * own error class while sharing the checks.
 */

export type FieldFailure = (field: string, expected: string, received: unknown) => never;

/** A plain object (mapping), not an array or null. */
export type ConfigObject = Record<string, unknown>;

export function isConfigObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readObject(value: unknown, field: string, fail: FieldFailure): ConfigObject {
  if (!isConfigObject(value)) {
    fail(field, 'a mapping', value);
  }
  return value;
}

export function readArray(value: unknown, field: string, fail: FieldFailure): unknown[] {
  if (!Array.isArray(value)) {
    fail(field, 'a list', value);
  }
  return value;
}

export function readString(value: unknown, field: string, fail: FieldFailure): string {
  if (typeof value !== 'string' || value.length === 0) {
    fail(field, 'a non-empty string', value);
  }
  return value;
}

/** A finite number >= 0, or > 0 when `positive` is set. */
export function readNumber(
  value: unknown,
  field: string,
  fail: FieldFailure,
  positive = false,
): number {
  const valid = typeof value === 'number' && Number.isFinite(value);
  if (!valid || value < 0 || (positive && value === 0)) {
    fail(field, positive ? 'a positive number' : 'a number >= 0', value);
  }
  return value;
}

export function readPositiveInteger(value: unknown, field: string, fail: FieldFailure): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    fail(field, 'a positive integer', value);
  }
  return value;
}

export function readOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  field: string,
  fail: FieldFailure,
): T {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) {
    fail(field, `one of ${allowed.join(', ')}`, value);
  }
  return match;
}

/** A received value that error messages describe instead of quoting, as a possible secret. */
export class WithheldValue {
  constructor(readonly description: string) {}
}

/** Renders a received value for an error message, cut to 60 characters. */
export function describeValue(value: unknown): string {
  if (value instanceof WithheldValue) return value.description;
  // JSON renders Infinity and NaN as null, so numbers are written as JavaScript prints them.
  const text =
    value === undefined
      ? 'nothing'
      : typeof value === 'number'
        ? String(value)
        : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
