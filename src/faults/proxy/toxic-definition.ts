import { FaultProxyError, invalidField } from './errors.js';
import { isAbsent, parseAttributes } from './toxic-attributes.js';

/** Direction a toxic affects: `upstream` is client to server, `downstream` server to client. */
export type StreamDirection = 'upstream' | 'downstream';

/** Toxic types of Toxiproxy 2.x that the proxy implements. */
export type ToxicType =
  'latency' | 'bandwidth' | 'slow_close' | 'timeout' | 'reset_peer' | 'slicer' | 'limit_data';

/** Toxic types, in the order error messages list them. */
const TOXIC_TYPES: readonly ToxicType[] = [
  'latency',
  'bandwidth',
  'slow_close',
  'timeout',
  'reset_peer',
  'slicer',
  'limit_data',
];

/** Top-level fields of a toxic body, as Toxiproxy 2.x and toxiproxy-node-client send them. */
const TOXIC_FIELDS = ['name', 'type', 'stream', 'toxicity', 'attributes'];

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
 * toxicity 1, name `<type>_<stream>`, and 0 for each missing attribute. A JSON null counts
 * as missing, as in Toxiproxy 2.x, because its Go client sends `"attributes": null` for
 * nil attributes. Unknown fields are rejected, where Toxiproxy 2.x ignores them.
 */
export function parseToxicCreate(body: unknown): ToxicDefinition {
  const input = toxicBody(body);
  const type = parseType(input.type);
  const stream = parseStream(input.stream);
  const name = isAbsent(input.name) || input.name === '' ? `${type}_${stream}` : input.name;
  if (typeof name !== 'string') {
    throw invalidField('name', 'a string', name);
  }
  const toxicity = parseToxicity(input.toxicity, 1);
  const attributes = parseAttributes(type, attributesObject(input.attributes), {});
  return { name, type, stream, toxicity, attributes };
}

/**
 * Applies a toxic update body. As in Toxiproxy 2.x, only `toxicity` and `attributes`
 * change, so `name`, `type` and `stream` are accepted and ignored. Attributes missing
 * from the body keep their values.
 */
export function parseToxicUpdate(current: ToxicDefinition, body: unknown): ToxicDefinition {
  const input = toxicBody(body);
  const toxicity = parseToxicity(input.toxicity, current.toxicity);
  const attributes = parseAttributes(
    current.type,
    attributesObject(input.attributes),
    current.attributes,
  );
  return { ...current, toxicity, attributes };
}

/** Returns `value` as a plain object, or throws a 400 naming `field`. */
export function asObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidField(field, 'a JSON object', value);
  }
  return value as Record<string, unknown>;
}

/** Returns the body as an object after checking that it has only toxic fields. */
function toxicBody(body: unknown): Record<string, unknown> {
  const input = asObject(body, 'body');
  for (const key of Object.keys(input)) {
    if (!TOXIC_FIELDS.includes(key)) {
      throw new FaultProxyError(
        'invalid_field',
        `unknown field "${key}" in toxic body: expected one of ${TOXIC_FIELDS.join(', ')}`,
        key,
      );
    }
  }
  return input;
}

function attributesObject(value: unknown): Record<string, unknown> {
  return isAbsent(value) ? {} : asObject(value, 'attributes');
}

function parseType(value: unknown): ToxicType {
  if (typeof value === 'string' && (TOXIC_TYPES as readonly string[]).includes(value)) {
    return value as ToxicType;
  }
  const known = TOXIC_TYPES.join(', ');
  throw new FaultProxyError(
    'invalid_field',
    `invalid toxic type ${JSON.stringify(value) ?? 'undefined'} in field "type": expected one of ${known}`,
    'type',
  );
}

/** Parses `stream` in any letter case, as Toxiproxy 2.x does, and returns it in lower case. */
function parseStream(value: unknown): StreamDirection {
  if (isAbsent(value) || value === '') {
    return 'downstream';
  }
  const lowered = typeof value === 'string' ? value.toLowerCase() : value;
  if (lowered === 'upstream' || lowered === 'downstream') {
    return lowered;
  }
  throw invalidField('stream', '"upstream" or "downstream"', value);
}

function parseToxicity(value: unknown, fallback: number): number {
  if (isAbsent(value)) {
    return fallback;
  }
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw invalidField('toxicity', 'a number from 0 to 1', value);
  }
  return value;
}
