/**
 * Field readers for YAML configuration files. Each reader reports a failure
 * through `fail(field, expected, received)`, so every config loader raises its
 * own error class while sharing the checks.
 */

export type FieldFailure = (
  field: string,
  expected: string,
  received: unknown,
  hint?: string,
) => never;

/** A decimal number as YAML writes it, which loads as a number once unquoted. */
const DECIMAL_NUMBER = /^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/;

/**
 * Returns `; write 25 without quotes` for a quoted number that `accepts` once unquoted, or
 * '' for any other value.
 */
function unquotedNumberHint(value: unknown, accepts: (number: number) => boolean): string {
  if (typeof value !== 'string' || !DECIMAL_NUMBER.test(value)) return '';
  return accepts(Number(value)) ? `; write ${value} without quotes` : '';
}

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
  const accepts = (number: number) =>
    Number.isFinite(number) && number >= 0 && !(positive && number === 0);
  if (typeof value !== 'number' || !accepts(value)) {
    const expected = positive ? 'a positive number' : 'a number >= 0';
    fail(field, expected, value, unquotedNumberHint(value, accepts));
  }
  return value;
}

export function readPositiveInteger(value: unknown, field: string, fail: FieldFailure): number {
  const accepts = (number: number) => Number.isInteger(number) && number > 0;
  if (typeof value !== 'number' || !accepts(value)) {
    fail(field, 'a positive integer', value, unquotedNumberHint(value, accepts));
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
