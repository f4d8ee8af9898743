import { readFileSync } from 'node:fs';

import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

import type { ReportIssue } from './errors.js';

/** A compiled JSON Schema; after a failed call, `errors` lists every failing rule. */
export type SchemaCheck = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

type FormatsPlugin = typeof addFormatsModule.default;

// ajv-formats is CommonJS: under nodenext the default import is its module.exports, which is the
// plugin function itself at run time, while its typings describe a module with a `default` member.
const addFormats: FormatsPlugin =
  (addFormatsModule as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

/** Reads the JSON Schema 2020-12 file at `url` and compiles it in strict mode. */
export function compileSchema(url: URL): SchemaCheck {
  // verbose adds the failing value and its schema to each error, for the message.
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    allowUnionTypes: true,
    verbose: true,
  });
  addFormats(ajv);
  const schema = JSON.parse(readFileSync(url, 'utf8')) as object;
  return ajv.compile(schema);
}

export function toIssue(error: ErrorObject): ReportIssue {
  const issue: ReportIssue = {
    instancePath: error.instancePath,
    keyword: error.keyword,
    message: error.message ?? 'invalid',
  };
  const extra = (error.params as { additionalProperty?: unknown }).additionalProperty;
  if (error.keyword === 'additionalProperties' && typeof extra === 'string') {
    // The failing value is the whole object, so the extra property's name says more.
    issue.value = `property ${JSON.stringify(extra)}`;
  } else if (error.keyword !== 'required' && error.data !== undefined) {
    issue.value = shortJson(error.data);
  }
  const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
  if (typeof description === 'string') issue.expected = description;
  return issue;
}

export function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 80 ? text : `${text.slice(0, 77)}...`;
}

/**
 * Describes the first issue as `at <path>: <keyword> rule failed (<message>, got <value>);
 * expected <form>`, the part of a validation error's message after its subject.
 */
export function describeFirstIssue(issues: readonly ReportIssue[]): string {
  const first = issues[0] ?? { instancePath: '', keyword: 'unknown', message: 'invalid' };
  const where = first.instancePath === '' ? '(root)' : first.instancePath;
  const got = first.value === undefined ? '' : `, got ${first.value}`;
  const expected = first.expected === undefined ? '' : `; expected ${lowerFirst(first.expected)}`;
  return `at ${where}: ${first.keyword} rule failed (${first.message}${got})${expected}`;
}

/**
 * Lowercases the first letter of a schema description, which starts a sentence, so it reads
 * on after `expected`. A first word in capitals, such as `JSON`, stays.
 */
function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? `${text[0]?.toLowerCase()}${text.slice(1)}` : text;
}
