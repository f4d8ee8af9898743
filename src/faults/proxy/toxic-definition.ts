import { FaultProxyError, invalidField } from './errors.js';

/** Direction a toxic affects: `upstream` is client to server, `downstream` server to client. */
export type StreamDirection = 'upstream' | 'downstream';

/** Toxic types of Toxiproxy 2.x that the proxy implements. */
export type ToxicType =
  'latency' | 'bandwidth' | 'slow_close' | 'timeout' | 'reset_peer' | 'slicer' | 'limit_data';

/** Attribute names of each toxic type; every attribute is a number and defaults to 0. */
export const TOXIC_ATTRIBUTES: Readonly<Record<ToxicType, readonly string[]>> = {
  latency: ['latency', 'jitter'],
  bandwidth: ['rate'],
  slow_close: ['delay'],
  timeout: ['timeout'],
  reset_peer: ['timeout'],
  slicer: ['average_size', 'size_variation', 'delay'],
  limit_data: ['bytes'],
};

/** A toxic as the API shows it. */
export interface ToxicDefinition {
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: StreamDirection;
  /** Probability, decided once per connection, that the toxic applies to it. */
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

/**
 * Validates a toxic create body, filling Toxiproxy's defaults: stream `downstream`,
 * toxicity 1, name `<type>_<stream>`, and 0 for each missing attribute.
 */
export function parseToxicCreate(body: unknown): ToxicDefinition {
  const input = asObject(body, 'body');
  const type = parseType(input.type);
  const stream = parseStream(input.stream);
  const name = input.name === undefined || input.name === '' ? `${type}_${stream}` : input.name;
  if (typeof name !== 'string') {
    throw invalidField('name', 'a string', name);
  }
  const toxicity = parseToxicity(input.toxicity, 1);
  const attributes = parseAttributes(type, input.attributes, {});
  return { name, type, stream, toxicity, attributes };
}

/**
 * Applies a toxic update body. As in Toxiproxy 2.x, only `toxicity` and `attributes`
 * change; attributes missing from the body keep their values.
 */
export function parseToxicUpdate(current: ToxicDefinition, body: unknown): ToxicDefinition {
  const input = asObject(body, 'body');
  const toxicity = parseToxicity(input.toxicity, current.toxicity);
  const attributes = parseAttributes(current.type, input.attributes, current.attributes);
  return { ...current, toxicity, attributes };
}

/** Returns `value` as a plain object, or throws a 400 naming `field`. */
export function asObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidField(field, 'a JSON object', value);
  }
  return value as Record<string, unknown>;
}

function parseType(value: unknown): ToxicType {
  if (typeof value === 'string' && Object.hasOwn(TOXIC_ATTRIBUTES, value)) {
    return value as ToxicType;
  }
  const known = Object.keys(TOXIC_ATTRIBUTES).join(', ');
  throw new FaultProxyError(
    'invalid_field',
    `invalid toxic type ${JSON.stringify(value) ?? 'undefined'} in field "type": expected one of ${known}`,
    'type',
  );
}

function parseStream(value: unknown): StreamDirection {
  if (value === undefined || value === '') {
    return 'downstream';
  }
  if (value === 'upstream' || value === 'downstream') {
    return value;
  }
  throw invalidField('stream', '"upstream" or "downstream"', value);
}

function parseToxicity(value: unknown, fallback: number): number {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw invalidField('toxicity', 'a number from 0 to 1', value);
  }
  return value;
}

function parseAttributes(
  type: ToxicType,
  value: unknown,
  current: Readonly<Record<string, number>>,
): Record<string, number> {
  const input = value === undefined ? {} : asObject(value, 'attributes');
  const attributes: Record<string, number> = {};
  for (const key of TOXIC_ATTRIBUTES[type]) {
    attributes[key] = parseAttribute(key, input[key], current[key] ?? 0);
  }
  return attributes;
}

function parseAttribute(key: string, value: unknown, fallback: number): number {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidField(`attributes.${key}`, 'a finite number >= 0', value);
  }
  return value;
}
