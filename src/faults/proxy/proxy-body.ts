import { DEFAULT_LISTEN, type HostPort, parseListen, parseUpstream } from './address.js';
import { invalidField } from './errors.js';
import { asObject } from './toxic-definition.js';

/** A validated proxy create body. */
export interface ProxyCreate {
  readonly name: string;
  readonly listen: HostPort;
  readonly upstream: string;
  readonly enabled: boolean;
}

/**
 * Validates a proxy create body: `name` and `upstream` are required, `listen` defaults
 * to 127.0.0.1:0, both must be loopback, and `enabled` defaults to true. A JSON null counts as
 * absent, as in Toxiproxy 2.x, because the toxiproxy-ruby client sends `"enabled": null`
 * when the caller gives none. `prefix` names the body inside a populate array, for
 * example `[2].`.
 */
export function parseProxyCreate(body: unknown, prefix = ''): ProxyCreate {
  const input = asObject(body, prefix === '' ? 'body' : prefix.slice(0, -1));
  const name = requireString(input.name, `${prefix}name`);
  const upstream = requireString(input.upstream, `${prefix}upstream`);
  parseUpstream(upstream, `${prefix}upstream`);
  const listen = optionalString(input.listen, `${prefix}listen`) ?? DEFAULT_LISTEN;
  const enabled = optionalBoolean(input.enabled, `${prefix}enabled`) ?? true;
  return { name, listen: parseListenNamed(listen, `${prefix}listen`), upstream, enabled };
}

/** Validates an update body over the proxy's current fields, which are the defaults. */
export function parseProxyUpdate(
  body: unknown,
  current: { listen: HostPort; upstream: string; enabled: boolean },
): { listen: HostPort; upstream: string; enabled: boolean } {
  const input = asObject(body, 'body');
  const listenText = optionalString(input.listen, 'listen');
  const upstream = optionalString(input.upstream, 'upstream') ?? current.upstream;
  parseUpstream(upstream, 'upstream');
  return {
    listen: listenText === undefined ? current.listen : parseListen(listenText),
    upstream,
    enabled: optionalBoolean(input.enabled, 'enabled') ?? current.enabled,
  };
}

function parseListenNamed(text: string, field: string): HostPort {
  if (field === 'listen') {
    return parseListen(text);
  }
  try {
    return parseListen(text);
  } catch {
    throw invalidField(field, 'a loopback address of the form host:port', text);
  }
}

function requireString(value: unknown, field: string): string {
  if (value === undefined || value === null || value === '') {
    throw invalidField(field, 'a non-empty string (missing required field)', value ?? null);
  }
  if (typeof value !== 'string') {
    throw invalidField(field, 'a string', value);
  }
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw invalidField(field, 'a string', value);
  }
  return value;
}

function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'boolean') {
    throw invalidField(field, 'true or false', value);
  }
  return value;
}
