import { readFileSync } from 'node:fs';

import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

import { ReportValidationError, type ReportIssue } from './errors.js';
import type { Report } from './types.js';

const SCHEMA_URL = new URL('../../../reports/schema/report.schema.json', import.meta.url);

type FormatsPlugin = typeof addFormatsModule.default;

// ajv-formats is CommonJS: under nodenext the default import is its module.exports, which is the
// plugin function itself at run time, while its typings describe a module with a `default` member.
const addFormats: FormatsPlugin =
  (addFormatsModule as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

let compiled: (((data: unknown) => boolean) & { errors?: ErrorObject[] | null }) | undefined;

function validator(): NonNullable<typeof compiled> {
  if (compiled === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(ajv);
    const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object;
    compiled = ajv.compile(schema);
  }
  return compiled;
}

function toIssue(error: ErrorObject): ReportIssue {
  return {
    instancePath: error.instancePath,
    keyword: error.keyword,
    message: error.message ?? 'invalid',
  };
}

/**
 * Checks `value` against the report schema and returns it typed.
 * @throws {@link ReportValidationError} naming the first failing JSON path and keyword.
 */
export function validateReport(value: unknown): Report {
  const check = validator();
  if (!check(value)) {
    throw new ReportValidationError((check.errors ?? []).map(toIssue));
  }
  return value as Report;
}
