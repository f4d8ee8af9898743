import type { ErrorObject } from 'ajv/dist/2020.js';
import { MAX_TIMER_MS } from '../../faults/limits.js';
import type { PolicyProblem } from './policy-errors.js';
import { enumHint, typeHint, unknownPropertyHint } from './schema-hints.js';

/** Converts one ajv error to a problem at the YAML path to fix, with a hint where one helps. */
function schemaProblem(error: ErrorObject): PolicyProblem {
  const collection = collectionProblem(error);
  if (collection !== undefined) {
    return collection;
  }

  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    // The path names the unknown property itself, so its YAML location is the line to fix.
    const property = String(params.additionalProperty);
    return {
      path: `${error.instancePath}/${escapePointerSegment(property)}`,
      message: `unknown property "${property}"${unknownPropertyHint(error, property)}`,
    };
  }

  if (error.keyword === 'required') {
    return {
      path: error.instancePath,
      message: `missing property "${String(params.missingProperty)}"`,
    };
  }

  if (error.keyword === 'enum') {
    const allowed = (params.allowedValues as unknown[]).join(', ');
    return {
      path: error.instancePath,
      message: `${quote(error.data)} is not one of: ${allowed}${enumHint(error)}`,
    };
  }

  if (error.keyword === 'const') {
    return {
      path: error.instancePath,
      message: `must be ${quote(params.allowedValue)}, received ${quote(error.data)}; write ${quote(params.allowedValue)}, the only value this scalegate reads`,
    };
  }

  if (error.keyword === 'pattern' && error.propertyName !== undefined) {
    return {
      path: `${error.instancePath}/${escapePointerSegment(error.propertyName)}`,
      message: `name ${quote(error.propertyName)} must match ${String(params.pattern)}; use lowercase letters, digits, - and _, starting with a letter or digit`,
    };
  }

  if (error.keyword === 'maximum') {
    return { path: error.instancePath, message: maximumMessage(Number(params.limit), error.data) };
  }

  if (error.keyword === 'minimum' || error.keyword === 'exclusiveMinimum') {
    const bound = error.keyword === 'minimum' ? '>=' : '>';
    return {
      path: error.instancePath,
      message: `must be ${bound} ${String(params.limit)}, received ${quote(error.data)}; raise it to at least that`,
    };
  }

  if (error.keyword === 'type') {
    return {
      path: error.instancePath,
      message: `${error.message ?? 'has the wrong type'}, received ${quote(error.data)}${typeHint(error)}`,
    };
  }

  return { path: error.instancePath, message: error.message ?? error.keyword };
}

function escapePointerSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * Returns the problem of an empty or repeating list or map, or undefined for other keywords.
 * The schema sets each of these minimums to 1, so the messages call the value empty.
 */
function collectionProblem(error: ErrorObject): PolicyProblem | undefined {
  const params = error.params as Record<string, unknown>;
  const path = error.instancePath;
  if (error.keyword === 'uniqueItems') {
    // ajv names the two equal items `i` and `j`, in an order that depends on the item type.
    const indices = [Number(params.i), Number(params.j)];
    const later = Math.max(...indices);
    const item = (error.data as unknown[])[later];
    const message = `duplicate item ${quote(item)} (also at index ${Math.min(...indices)}); remove one`;
    return { path: `${path}/${later}`, message };
  }
  if (error.keyword === 'minItems') {
    return {
      path,
      message: 'the list is empty; add at least one item, as policies/default.yaml does',
    };
  }
  if (error.keyword === 'minProperties') {
    return {
      path,
      message: 'the map is empty; add at least one entry, as policies/default.yaml does',
    };
  }
  if (error.keyword === 'minLength') {
    return {
      path,
      message: 'the value is an empty string; write a name, as policies/default.yaml does',
    };
  }
  return undefined;
}

function maximumMessage(limit: number, value: unknown): string {
  const message = `must be <= ${limit}, received ${quote(value)}`;
  if (limit === 1 && typeof value === 'number' && value > 1 && value <= 100) {
    return `${message}; it is a fraction, so write ${value / 100} for ${value}%`;
  }
  if (limit !== MAX_TIMER_MS) {
    return `${message}; lower it to at most that`;
  }
  return `${message}; Node timers wait at most ${limit} ms (about 24.8 days), so set it to ${limit} or less`;
}

/**
 * Renders a value from the policy for a message, cut to 60 characters. NaN and the
 * infinities (YAML `.nan`, `.inf`) print as such, where JSON would print null.
 */
function quote(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return String(value);
  }
  const text = value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Converts ajv's errors to problems that name the value and the fix. Folds the `required`
 * errors of each `anyOf` branch into one problem naming the alternatives.
 */
export function schemaProblems(errors: ErrorObject[]): PolicyProblem[] {
  const branchErrors = errors.filter((error) => error.schemaPath.includes('/anyOf/'));
  return errors.flatMap((error) => {
    // A bad route name yields a `pattern` error naming it, then this summary of it.
    if (error.schemaPath.includes('/anyOf/') || error.keyword === 'propertyNames') {
      return [];
    }
    if (error.keyword !== 'anyOf') {
      return [schemaProblem(error)];
    }
    const alternatives = branchErrors
      .filter(
        (branch) => branch.instancePath === error.instancePath && branch.keyword === 'required',
      )
      .map((branch) => String((branch.params as Record<string, unknown>).missingProperty));
    return [{ path: error.instancePath, message: `must set one of: ${alternatives.join(', ')}` }];
  });
}
