import { GatewayError } from './gateway-error.js';

/** One ajv error object, as Fastify attaches them to a validation error. */
interface AjvIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * Turns the first ajv error into a 400 naming the field, such as
 * `maxOutputTokens` or `messages[0].role`.
 */
export function validationGatewayError(issues: readonly AjvIssue[]): GatewayError {
  const issue = issues[0];
  if (issue === undefined) return new GatewayError(400, 'invalid_request', 'invalid request body');
  const field = fieldOf(issue);
  const problem = describeIssue(issue);
  const message = field === '' ? `request body ${problem}` : `invalid field ${field}: ${problem}`;
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
  for (const part of instancePath.split('/').filter((item) => item.length > 0)) {
    if (/^\d+$/.test(part)) field += `[${part}]`;
    else if (field === '') field = part;
    else field += `.${part}`;
  }
  return field;
}

function describeIssue(issue: AjvIssue): string {
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'additionalProperties') return 'is not a known field';
  if (issue.keyword === 'enum' && Array.isArray(issue.params.allowedValues)) {
    return `must be one of ${issue.params.allowedValues.join(', ')}`;
  }
  return issue.message ?? 'is invalid';
}
