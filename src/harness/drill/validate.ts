import { Ajv, type ErrorObject } from 'ajv';

import { faultConfigSchema } from '../../faults/providers/fault-config.js';
import { alternatives, similarNames } from '../../platform/router/similar-names.js';
import { DrillSpecError } from './errors.js';
import { type DrillSpec, SERIES_MEASURES, TOXIC_TYPES } from './spec.js';
import { checkSpecRules } from './spec-rules.js';

const name = { type: 'string', minLength: 1 } as const;
const offset = { type: 'number', minimum: 0 } as const;
const positive = { type: 'number', exclusiveMinimum: 0 } as const;
const nonNegative = { type: 'number', minimum: 0 } as const;
const timing = {
  id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
  atS: offset,
  durationS: positive,
};

function step(kind: string, properties: Record<string, unknown>): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'id', 'atS', 'durationS', ...Object.keys(properties)].filter(
      (key) => key !== 'failover',
    ),
    properties: { kind: { const: kind }, ...timing, ...properties },
  };
}

const drillSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'scenario', 'durationS', 'steadyState', 'faults', 'abortRules'],
  properties: {
    name,
    description: { type: 'string' },
    scenario: name,
    durationS: positive,
    probeIntervalS: positive,
    steadyState: {
      type: 'object',
      additionalProperties: false,
      required: ['probes', 'settleS'],
      properties: {
        settleS: offset,
        probes: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'source', 'measure', 'comparator', 'threshold', 'tolerance'],
            properties: {
              name,
              source: { enum: ['series', 'metrics'] },
              measure: name,
              comparator: { enum: ['min', 'max'] },
              threshold: nonNegative,
              tolerance: offset,
              duringTolerance: offset,
              checkDuring: { type: 'boolean' },
            },
          },
        },
      },
    },
    faults: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kind'],
        discriminator: { propertyName: 'kind' },
        oneOf: [
          step('toxic', {
            proxy: name,
            toxic: {
              type: 'object',
              additionalProperties: false,
              required: ['type', 'attributes'],
              properties: {
                type: { enum: TOXIC_TYPES },
                stream: { enum: ['upstream', 'downstream'] },
                toxicity: { type: 'number', minimum: 0, maximum: 1 },
                attributes: {
                  type: 'object',
                  additionalProperties: { type: 'number', minimum: 0 },
                },
              },
            },
          }),
          step('provider-fault', {
            provider: name,
            faults: faultConfigSchema,
            failover: {
              type: 'object',
              additionalProperties: false,
              required: ['fallback'],
              properties: { fallback: name },
            },
          }),
          step('tenant-burst', { tenant: name, quotaMultiplier: positive }),
          step('worker-pause', {}),
        ],
      },
    },
    abortRules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'measure', 'comparator', 'threshold', 'forS'],
        properties: {
          name,
          measure: { enum: SERIES_MEASURES },
          comparator: { enum: ['below', 'above'] },
          threshold: nonNegative,
          forS: positive,
        },
      },
    },
  },
} as const;

const check = new Ajv({ allErrors: false, discriminator: true, verbose: true }).compile(
  drillSchema,
);

/** Converts a JSON Pointer such as `/faults/1/atS` into `faults[1].atS`. */
function fieldPath(pointer: string, extra?: string): string {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/');
  if (extra !== undefined) {
    segments.push(extra);
  }
  let path = '';
  for (const raw of segments) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^\d+$/.test(part)) {
      path += `[${part}]`;
    } else {
      path += path === '' ? part : `.${part}`;
    }
  }
  return path;
}

/** Returns a value as JSON, cut to 80 characters. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Returns `, got <value>` for the invalid value that ajv kept with `verbose: true`. */
function received(value: unknown): string {
  return `, got ${shown(value)}`;
}

/** Returns the property names that the schema of an ajv error's object defines. */
function knownProperties(error: ErrorObject): string[] {
  const schema = error.parentSchema as { properties?: Record<string, unknown> } | undefined;
  return Object.keys(schema?.properties ?? {});
}

/**
 * Returns the fix for a required field the object lacks. A field the schema does not define,
 * such as `duration` beside a missing `durationS`, is most likely the misnamed one, so the
 * fix names it as the field to rename: the one near in spelling, else the only unknown one.
 */
function missingFieldFix(error: ErrorObject, missing: string): string {
  const object = (error.data ?? {}) as Record<string, unknown>;
  const known = knownProperties(error);
  const unknown = Object.keys(object).filter((key) => !known.includes(key));
  const renamed =
    unknown.find((key) => similarNames(key, [missing]).length > 0) ??
    (unknown.length === 1 ? unknown[0] : undefined);
  if (renamed !== undefined) {
    return `; the object has the unknown field ${renamed} set to ${shown(object[renamed])}, so rename it to ${missing}`;
  }
  return `; add ${missing}`;
}

/** Returns the fix for a field the schema does not define: a near name, or the known fields. */
function unknownFieldFix(error: ErrorObject, field: string): string {
  const object = (error.data ?? {}) as Record<string, unknown>;
  const known = knownProperties(error);
  const unset = known.filter((name) => !Object.hasOwn(object, name));
  const similar = similarNames(field, unset);
  if (similar.length > 0) {
    return `; did you mean ${alternatives(similar, (name) => name)}? Rename it`;
  }
  return `; the known fields are ${known.join(', ')}, so rename or remove it`;
}

function schemaProblem(error: ErrorObject | undefined): DrillSpecError {
  if (error === undefined) {
    return new DrillSpecError('', 'is invalid');
  }
  const params: Record<string, unknown> = error.params;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    return new DrillSpecError(
      fieldPath(error.instancePath, params.missingProperty),
      `is required${missingFieldFix(error, params.missingProperty)}`,
    );
  }
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    const field = params.additionalProperty;
    const object = (error.data ?? {}) as Record<string, unknown>;
    return new DrillSpecError(
      fieldPath(error.instancePath, field),
      `is not a known field (set to ${shown(object[field])})${unknownFieldFix(error, field)}`,
    );
  }
  if (error.keyword === 'discriminator') {
    return new DrillSpecError(
      fieldPath(error.instancePath, 'kind'),
      `must be toxic, provider-fault, tenant-burst or worker-pause${received(params.tagValue)}`,
    );
  }
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    return new DrillSpecError(
      fieldPath(error.instancePath),
      `must be one of ${params.allowedValues.join(', ')}${received(error.data)}`,
    );
  }
  return new DrillSpecError(
    fieldPath(error.instancePath),
    `${error.message ?? 'is invalid'}${received(error.data)}`,
  );
}

/**
 * Validates a drill spec and returns it typed.
 * @throws {@link DrillSpecError} naming the path of the first invalid field.
 */
export function validateDrillSpec(value: unknown): DrillSpec {
  if (!check(value)) {
    throw schemaProblem(check.errors?.[0]);
  }
  const spec = value as DrillSpec;
  checkSpecRules(spec);
  return spec;
}
