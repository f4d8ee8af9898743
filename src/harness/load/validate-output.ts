import { compileSchema, type SchemaCheck, toIssue } from '../report/schema-check.js';
import { LoadOutputValidationError } from './errors.js';
import type { LoadCommandOutput } from './output.js';

/** Location of the load output's JSON Schema in the scalegate checkout. */
export const LOAD_OUTPUT_SCHEMA_URL = new URL(
  '../../../reports/schema/load-output.schema.json',
  import.meta.url,
);

let compiled: SchemaCheck | undefined;

/**
 * Checks `value` against reports/schema/load-output.schema.json and returns it typed.
 * @throws {@link LoadOutputValidationError} naming the first failing JSON path, its value
 *   and what it should be.
 */
export function validateLoadOutput(value: unknown): LoadCommandOutput {
  compiled ??= compileSchema(LOAD_OUTPUT_SCHEMA_URL);
  if (!compiled(value)) {
    throw new LoadOutputValidationError((compiled.errors ?? []).map(toIssue));
  }
  return value as LoadCommandOutput;
}
