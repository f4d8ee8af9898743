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

/**
 * Returns `; write 4000 without quotes` for a `type` error on a quoted string that, written
 * without quotes, YAML loads as the number or integer expected, or '' otherwise.
 */
export function typeHint(error: ErrorObject): string {
  const expected = (error.params as { type?: unknown }).type;
  const value: unknown = error.data;
  if (typeof value !== 'string') {
    return '';
  }
  const number = Number(value);
  const fits =
    (expected === 'number' && YAML_NUMBER.test(value) && Number.isFinite(number)) ||
    (expected === 'integer' && YAML_NUMBER.test(value) && Number.isInteger(number));
  return fits ? `; write ${value} without quotes` : '';
}
