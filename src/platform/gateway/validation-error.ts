import { alternatives, similarNames } from '../router/similar-names.js';
import { GatewayError } from './gateway-error.js';
import { findTooDeep, MAX_JSON_DEPTH } from './json-depth.js';

/** One ajv error object, as Fastify attaches them to a validation error. */
interface AjvIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  /** The schema object that failed, which ajv sets only with its `verbose` option on. */
  parentSchema?: unknown;
}

/** Longest received value quoted in a message, in characters. */
const MAX_QUOTED_CHARS = 80;

/**
 * Turns the first ajv error into a 400 naming the field, such as
 * `maxOutputTokens` or `messages[0].role`, the value received there and the fix.
 * The value of an unknown field is left out, since it may be a secret sent
 * by mistake, such as an API key. `data` is what was validated: the body, or
 * the path parameters.
 */
export function validationGatewayError(issues: readonly AjvIssue[], data?: unknown): GatewayError {
  const issue = issues[0];
  if (issue === undefined) return new GatewayError(400, 'invalid_request', 'invalid request body');
  const field = fieldOf(issue);
  const problem = describeIssue(issue);
  const value = valueAt(data, pointerParts(issue.instancePath));
  const received = receivedValue(issue, value);
  const got = received === undefined ? '' : `, got ${received}`;
  const fix = fixHint(issue, value, field);
  const message =
    field === ''
      ? `request body ${problem}${got}${fix}`
      : `invalid field ${field}: ${problem}${got}${fix}`;
  const details = field === '' ? {} : { field };
  return new GatewayError(400, 'invalid_request', message, details);
}

function fieldOf(issue: AjvIssue): string {
  const base = pathToField(issue.instancePath);
  const child = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof child !== 'string') return base;
  return base === '' ? child : `${base}.${child}`;
}

function pathToField(instancePath: string): string {
  let field = '';
  for (const part of pointerParts(instancePath)) {
    if (/^\d+$/.test(part)) field += `[${part}]`;
    else if (field === '') field = part;
    else field += `.${part}`;
  }
  return field;
}

function pointerParts(instancePath: string): string[] {
  return instancePath
    .split('/')
    .filter((item) => item.length > 0)
    .map((item) => item.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function describeIssue(issue: AjvIssue): string {
  const limit = issue.params.limit;
  switch (issue.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'enum':
      if (!Array.isArray(issue.params.allowedValues)) break;
      return `must be one of ${issue.params.allowedValues.join(', ')}`;
    case 'minItems':
      return `must have at least ${countOf(limit, 'item')}`;
    case 'maxItems':
      return `must have at most ${countOf(limit, 'item')}`;
    case 'minLength':
      return `must have at least ${countOf(limit, 'character')}`;
    case 'maxLength':
      return `must have at most ${countOf(limit, 'character')}`;
  }
  return issue.message ?? 'is invalid';
}

function countOf(limit: unknown, noun: string): string {
  return `${String(limit)} ${noun}${limit === 1 ? '' : 's'}`;
}

/**
 * Returns what to send instead, starting with `; `, or '' when the problem already states it.
 * An unknown field close to a known one that the object lacks gets a "did you mean".
 */
function fixHint(issue: AjvIssue, value: unknown, field: string): string {
  switch (issue.keyword) {
    case 'required':
      return missingFieldHint(issue, value);
    case 'additionalProperties':
      return unknownFieldHint(issue, value);
    case 'minimum':
      return `; send ${String(issue.params.limit)} or more`;
    case 'maximum':
      return `; send ${String(issue.params.limit)} or less`;
    case 'type':
      return typeHint(issue, value, field);
    case 'enum':
      return enumHint(issue.params.allowedValues, value);
    case 'minItems':
      return `; send at least ${countOf(issue.params.limit, 'item')}`;
    case 'maxItems':
      return `; send at most ${countOf(issue.params.limit, 'item')}`;
    case 'minLength':
      return `; send at least ${countOf(issue.params.limit, 'character')}`;
    case 'maxLength':
      return `; send at most ${countOf(issue.params.limit, 'character')}`;
  }
  return '';
}

/**
 * Returns `; send async` for a string close to one allowed value, such as `Async` or
 * `asnyc`, or `; send one of them` otherwise.
 */
function enumHint(allowed: unknown, value: unknown): string {
  if (!Array.isArray(allowed)) return '';
  const names = allowed.filter((item): item is string => typeof item === 'string');
  const similar = typeof value === 'string' ? similarNames(value, names) : [];
  if (similar.length === 0) return '; send one of them';
  return `; send ${alternatives(similar, (name) => name)}`;
}

/**
 * Returns `; rename maxOutputToken to maxOutputTokens` when the object has an unknown key
 * close to the missing field, because ajv reports the missing field before the unknown key.
 */
function missingFieldHint(issue: AjvIssue, object: unknown): string {
  const name = issue.params.missingProperty;
  const schema = issue.parentSchema as { properties?: Record<string, unknown> } | undefined;
  if (typeof name !== 'string' || typeof object !== 'object' || object === null) return '; add it';
  const known = schema?.properties ?? {};
  const unknown = Object.keys(object).filter((key) => !Object.hasOwn(known, key));
  const [similar] = similarNames(name, unknown);
  return similar === undefined ? '; add it' : `; rename ${similar} to ${name}`;
}

function unknownFieldHint(issue: AjvIssue, object: unknown): string {
  const name = issue.params.additionalProperty;
  const schema = issue.parentSchema as { properties?: Record<string, unknown> } | undefined;
  if (typeof name !== 'string' || typeof object !== 'object' || object === null) {
    return '; remove it';
  }
  const unset = Object.keys(schema?.properties ?? {}).filter((key) => !Object.hasOwn(object, key));
  const similar = similarNames(name, unset);
  if (similar.length === 0) return '; remove it';
  return `; did you mean ${alternatives(similar, (key) => key)}? Otherwise remove it`;
}

/**
 * Returns the fix of a value of the wrong type: a quoted number or boolean loses its
 * quotes, a fraction becomes a whole number, a body that is no object becomes one, and
 * any other value is replaced by one of the expected type.
 */
function typeHint(issue: AjvIssue, value: unknown, field: string): string {
  const expected = issue.params.type;
  if (typeof value === 'string' && unquotedFits(expected, value)) {
    return `; send ${value} without quotes`;
  }
  if (field === '' && expected === 'object') {
    return '; send one JSON object with route, maxOutputTokens and mode';
  }
  switch (expected) {
    case 'integer':
      return '; send a whole number';
    case 'number':
      return '; send a number';
    case 'boolean':
      return '; send true or false, without quotes';
    case 'string':
      return '; send a JSON string in double quotes';
    case 'array':
      return '; send a JSON array';
    case 'object':
      return `; send a JSON object${requiredFieldsOf(issue.parentSchema)}`;
  }
  return '';
}

/** Returns the fields `schema` requires, as ` with role and content`, or '' for none. */
function requiredFieldsOf(schema: unknown): string {
  const required = (schema as { required?: unknown } | undefined)?.required;
  if (!Array.isArray(required) || required.length === 0) return '';
  const names = required.map(String);
  const last = names.pop();
  return names.length === 0 ? ` with ${last}` : ` with ${names.join(', ')} and ${last}`;
}

/** True when `text`, parsed as JSON, has the JSON Schema type `expected`. */
function unquotedFits(expected: unknown, text: string): boolean {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed !== text) return false;
  if (expected === 'boolean') return text === 'true' || text === 'false';
  if (expected !== 'integer' && expected !== 'number') return false;
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return false;
  const number = Number(text);
  return expected === 'number' ? Number.isFinite(number) : Number.isSafeInteger(number);
}

/**
 * Returns the invalid value as short JSON, or undefined when nothing was received
 * there or the field is unknown.
 */
function receivedValue(issue: AjvIssue, value: unknown): string | undefined {
  if (issue.keyword === 'required' || issue.keyword === 'additionalProperties') return undefined;
  return value === undefined ? undefined : quote(value);
}

function valueAt(data: unknown, parts: readonly string[]): unknown {
  let value = data;
  for (const part of parts) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function quote(value: unknown): string {
  if (typeof value === 'string') return quoteString(value);
  // JSON.stringify recurses, so a deep enough value would overflow the call stack.
  if (findTooDeep(value, MAX_JSON_DEPTH) !== undefined) {
    return `an array or object nested more than ${MAX_JSON_DEPTH} levels deep`;
  }
  const text = JSON.stringify(value) ?? String(value);
  if (text.length <= MAX_QUOTED_CHARS) return text;
  return `${text.slice(0, MAX_QUOTED_CHARS)}... (${text.length} characters of JSON)`;
}

/**
 * Quotes a string, cut after MAX_QUOTED_CHARS characters. Characters are Unicode code
 * points, as ajv 8 counts them for `maxLength` by default, so the count matches the limit.
 */
function quoteString(value: string): string {
  const characters = [...value];
  if (characters.length <= MAX_QUOTED_CHARS) return JSON.stringify(value);
  const head = JSON.stringify(characters.slice(0, MAX_QUOTED_CHARS).join(''));
  return `${head}... (${characters.length} characters)`;
}
