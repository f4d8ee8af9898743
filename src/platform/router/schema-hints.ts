import { STATUS_CODES } from 'node:http';

import type { ErrorObject } from 'ajv/dist/2020.js';
import { alternatives, similarNames } from './similar-names.js';

/**
 * YAML 1.2 core schema float syntax, which also covers its decimal integers. A plain scalar
 * that matches it loads as a number.
 */
const YAML_NUMBER = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/**
 * Returns `; did you mean "deadlineMs"?` for an `additionalProperties` error when the schema
 * allows a property there that differs from the unknown one by case or a small edit and the
 * object does not set yet, or '' when none does.
 */
export function unknownPropertyHint(error: ErrorObject, property: string): string {
  const schema = error.parentSchema as { properties?: Record<string, unknown> } | undefined;
  const object = error.data as Record<string, unknown>;
  const unset = Object.keys(schema?.properties ?? {}).filter(
    (name) => !Object.hasOwn(object, name),
  );
  const similar = similarNames(property, unset);
  return similar.length === 0
    ? ''
    : `; did you mean ${alternatives(similar, (name) => `"${name}"`)}?`;
}

/** Returns `; did you mean "status_5xx"?` for an `enum` error on a misspelt string, or ''. */
export function enumHint(error: ErrorObject): string {
  const value: unknown = error.data;
  const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues ?? [];
  if (typeof value !== 'string') {
    return '';
  }
  const names = allowed.filter((entry): entry is string => typeof entry === 'string');
  const range = statusRangeHint(value, names);
  if (range !== '') {
    return range;
  }
  const similar = similarNames(value, names);
  return similar.length === 0
    ? ''
    : `; did you mean ${alternatives(similar, (name) => `"${name}"`)}?`;
}

/** An HTTP error status written as an error class, such as `status_503`. */
const STATUS_CLASS = /^status_([45])[0-9]{2}$/;

/**
 * Returns `; did you mean "status_5xx"? ...` for a status such as `status_503` that has no
 * error class of its own, or ''. A small edit would suggest another status, such as
 * `status_400` for `status_500`, which names a different failure. A status missing from Node's
 * `http.STATUS_CODES` whose two swapped adjacent digits give a class, such as `status_492`, is
 * more likely a typo of that class, `status_429`, so the hint names that class first.
 */
function statusRangeHint(value: string, allowed: readonly string[]): string {
  const digit = STATUS_CLASS.exec(value)?.[1];
  const range = `status_${digit}xx`;
  if (digit === undefined || !allowed.includes(range)) {
    return '';
  }
  const covers = `every ${digit}xx status without a class of its own`;
  const swapped = swappedStatusClass(value, allowed);
  if (swapped !== undefined) {
    return `; did you mean "${swapped}"? Or "${range}", which covers ${covers}`;
  }
  return `; did you mean "${range}"? It covers ${covers}`;
}

/**
 * Returns the allowed class that swapping two adjacent digits of `value` gives, such as
 * `status_429` for `status_492`, when `value` is missing from Node's `http.STATUS_CODES`.
 */
function swappedStatusClass(value: string, allowed: readonly string[]): string | undefined {
  const digits = value.slice('status_'.length);
  if (STATUS_CODES[digits] !== undefined) {
    return undefined;
  }
  for (const index of [0, 1]) {
    const swapped =
      digits.slice(0, index) +
      digits.charAt(index + 1) +
      digits.charAt(index) +
      digits.slice(index + 2);
    const name = `status_${swapped}`;
    if (swapped !== digits && allowed.includes(name)) {
      return name;
    }
  }
  return undefined;
}

/** A duration with a unit, such as `30s`, where a number of milliseconds is expected. */
const DURATION = /^([0-9]+(?:\.[0-9]+)?)\s*(ms|s|min|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** A percentage, such as `20%`, where a number is expected. */
const PERCENT = /^([0-9]+(?:\.[0-9]+)?)\s*%$/;

/**
 * Returns the fix for a `type` error, such as `; write 4000 without quotes` for a quoted
 * string that YAML loads as the number expected once unquoted, or '' when no fix is known.
 */
export function typeHint(error: ErrorObject): string {
  const expected = (error.params as { type?: unknown }).type;
  const value: unknown = error.data;
  if (error.instancePath === '') {
    return '; write a map with version: 1 and routes, as policies/default.yaml does';
  }
  if (value === null) {
    return '; write a value after the colon';
  }
  if (expected !== 'number' && expected !== 'integer') {
    return '';
  }
  if (typeof value === 'string') {
    return numberTextHint(value, expected, error.instancePath);
  }
  if (expected === 'integer' && typeof value === 'number' && Number.isFinite(value)) {
    return `; write a whole number, such as ${Math.round(value)}`;
  }
  if (expected === 'integer') {
    return '; write a whole number';
  }
  return typeof value === 'number' ? '; write a finite number' : '; write a number';
}

/** Returns the fix for a string where a number is expected, such as `"30s"` for a `...Ms` field. */
function numberTextHint(value: string, expected: 'number' | 'integer', path: string): string {
  const number = Number(value);
  const fits =
    (expected === 'number' && YAML_NUMBER.test(value) && Number.isFinite(number)) ||
    (expected === 'integer' && YAML_NUMBER.test(value) && Number.isInteger(number));
  if (fits) {
    return `; write ${value} without quotes`;
  }
  if (YAML_NUMBER.test(value) && Number.isFinite(number)) {
    return `; write a whole number without quotes, such as ${Math.round(number)}`;
  }
  const duration = DURATION.exec(value.trim());
  if (duration !== null && path.endsWith('Ms')) {
    const milliseconds = Number(duration[1]) * (UNIT_MS[duration[2] as string] ?? 1);
    return `; write the number of milliseconds without a unit, such as ${Math.round(milliseconds)}`;
  }
  const percent = PERCENT.exec(value.trim());
  if (percent !== null && expected === 'number') {
    return `; write it as a fraction, such as ${Number(percent[1]) / 100} for ${value.trim()}`;
  }
  return expected === 'integer' ? '; write a whole number' : '; write a number';
}
