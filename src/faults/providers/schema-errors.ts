import type { ErrorObject } from 'ajv';

/** A validation failure reduced to a dotted field path and a sentence. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * Converts the first ajv error into a dotted field path (`models.0.ttftMs.median`).
 * For `required` and `additionalProperties` errors the path names the missing or extra key.
 * Other messages end with the received value when the validator ran with `verbose: true`.
 */
export function firstFieldProblem(errors: ErrorObject[] | null | undefined): FieldProblem {
  const error = errors?.[0];
  if (error === undefined) {
    return { field: '', message: 'is invalid' };
  }
  const segments = error.instancePath.split('/').slice(1).map(unescapePointer);
  const params: Record<string, unknown> = error.params;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    segments.push(params.missingProperty);
    return { field: segments.join('.'), message: 'is required' };
  }
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    segments.push(params.additionalProperty);
    return { field: segments.join('.'), message: `is not a known field${knownFields(error)}` };
  }
  const message = error.message ?? 'is invalid';
  return { field: segments.join('.'), message: `${message}${receivedSuffix(error)}` };
}

/** Returns `; known fields: a, b` when ajv ran with `verbose: true` and kept the schema. */
function knownFields(error: ErrorObject): string {
  const properties: unknown = error.parentSchema?.properties;
  if (typeof properties !== 'object' || properties === null) return '';
  return `; known fields: ${Object.keys(properties).join(', ')}`;
}

/** Returns `, got <value>` when ajv ran with `verbose: true` and kept the invalid value. */
function receivedSuffix(error: ErrorObject): string {
  if (!('data' in error)) {
    return '';
  }
  const text = JSON.stringify(error.data) ?? String(error.data);
  return `, got ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
}

function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}
