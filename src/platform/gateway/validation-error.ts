import { GatewayError } from './gateway-error.js';
import { findTooDeep, MAX_JSON_DEPTH } from './json-depth.js';

/** One ajv error object, as Fastify attaches them to a validation error. */
interface AjvIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Longest received value quoted in a message, in characters. */
const MAX_QUOTED_CHARS = 80;

/**
 * Turns the first ajv error into a 400 naming the field, such as
 * `maxOutputTokens` or `messages[0].role`, and the value received there.
 * The value of an unknown field is left out, since it may be a secret sent
 * by mistake, such as an API key. `data` is what was validated: the body, or
 * the path parameters.
 */
export function validationGatewayError(issues: readonly AjvIssue[], data?: unknown): GatewayError {
  const issue = issues[0];
  if (issue === undefined) return new GatewayError(400, 'invalid_request', 'invalid request body');
  const field = fieldOf(issue);
  const problem = describeIssue(issue);
  const received = receivedValue(issue, data);
  const got = received === undefined ? '' : `, got ${received}`;
  const message =
    field === '' ? `request body ${problem}${got}` : `invalid field ${field}: ${problem}${got}`;
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
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'additionalProperties') return 'is not a known field; remove it';
  if (issue.keyword === 'enum' && Array.isArray(issue.params.allowedValues)) {
    return `must be one of ${issue.params.allowedValues.join(', ')}`;
  }
  return issue.message ?? 'is invalid';
}

/**
 * Returns the invalid value as short JSON, or undefined when nothing was received
 * there or the field is unknown.
 */
function receivedValue(issue: AjvIssue, data: unknown): string | undefined {
  if (issue.keyword === 'required' || issue.keyword === 'additionalProperties') return undefined;
  const value = valueAt(data, pointerParts(issue.instancePath));
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
