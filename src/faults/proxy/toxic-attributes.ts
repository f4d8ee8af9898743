import { MAX_TIMER_MS } from '../limits.js';
import { FaultProxyError, invalidField } from './errors.js';
import type { ToxicType } from './toxic-definition.js';

/** One integer attribute of a toxic type: its unit and its largest accepted value. */
interface AttributeSpec {
  readonly unit: string;
  readonly max: number;
}

const MILLISECONDS: AttributeSpec = { unit: 'milliseconds', max: MAX_TIMER_MS };
const BYTES: AttributeSpec = { unit: 'bytes', max: Number.MAX_SAFE_INTEGER };

/**
 * Attributes of each toxic type. Toxiproxy 2.x declares every one as an integer; the
 * millisecond fields are capped at the longest delay a Node timer honours.
 */
export const TOXIC_ATTRIBUTE_SPECS: Readonly<
  Record<ToxicType, Readonly<Record<string, AttributeSpec>>>
> = {
  latency: { latency: MILLISECONDS, jitter: MILLISECONDS },
  bandwidth: { rate: { unit: 'KB/s', max: Number.MAX_SAFE_INTEGER } },
  slow_close: { delay: MILLISECONDS },
  timeout: { timeout: MILLISECONDS },
  reset_peer: { timeout: MILLISECONDS },
  slicer: {
    average_size: BYTES,
    size_variation: BYTES,
    delay: { unit: 'microseconds', max: MAX_TIMER_MS * 1000 },
  },
  limit_data: { bytes: BYTES },
};

/** True for a field that is missing or JSON null, which Toxiproxy 2.x treats alike. */
export function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/**
 * Validates `input` as the attributes of a `type` toxic over `current` values; a missing
 * or null attribute keeps its current value, or 0. Unknown names are rejected, where Toxiproxy
 * 2.x ignores them, because a misspelt attribute would otherwise leave the toxic idle.
 */
export function parseAttributes(
  type: ToxicType,
  input: Readonly<Record<string, unknown>>,
  current: Readonly<Record<string, number>>,
): Record<string, number> {
  const specs = TOXIC_ATTRIBUTE_SPECS[type];
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(specs, key)) {
      throw unknownAttribute(type, key, Object.keys(specs));
    }
  }
  const attributes: Record<string, number> = {};
  for (const [key, spec] of Object.entries(specs)) {
    attributes[key] = parseAttribute(key, spec, input[key], current[key] ?? 0);
  }
  return attributes;
}

function parseAttribute(
  key: string,
  spec: AttributeSpec,
  value: unknown,
  fallback: number,
): number {
  if (isAbsent(value)) {
    return fallback;
  }
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > spec.max) {
    throw invalidField(
      `attributes.${key}`,
      `an integer from 0 to ${spec.max} (${spec.unit})`,
      value,
    );
  }
  return value as number;
}

function unknownAttribute(type: ToxicType, key: string, known: readonly string[]): FaultProxyError {
  const field = `attributes.${key}`;
  return new FaultProxyError(
    'invalid_field',
    `unknown field "${field}" for toxic type ${type}: expected one of ${known.join(', ')}`,
    field,
  );
}
