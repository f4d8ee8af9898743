import { isIP } from 'node:net';

import { isLoopbackHost, LOOPBACK_HOSTS } from '../loopback.js';
import { invalidField } from './errors.js';

/** A host and port pair, as in `listen` and `upstream`. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** The listen address used when a proxy gives none: loopback, with a free port. */
export const DEFAULT_LISTEN = '127.0.0.1:0';

/**
 * Parses `host:port` or `[v6]:port`. Throws a 400 naming `field` when the text has
 * no host, or the port is not an integer in 0..65535.
 */
export function parseHostPort(text: string, field: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (match === null || host === undefined || host === '') {
    throw invalidField(field, 'an address of the form host:port', text);
  }
  if (!Number.isInteger(port) || port > 65535) {
    throw invalidField(field, 'a port from 0 to 65535', text);
  }
  return { host, port };
}

/**
 * Parses a listen address and resolves `localhost` to 127.0.0.1. Only loopback hosts
 * pass, because the proxy must never accept connections from other machines.
 */
export function parseListen(text: string): HostPort {
  const { host, port } = parseHostPort(text, 'listen');
  const resolved = host.toLowerCase() === 'localhost' ? '127.0.0.1' : host;
  if (!isLoopbackHost(resolved)) {
    throw invalidField('listen', `a loopback host (${LOOPBACK_HOSTS})`, text);
  }
  return { host: resolved, port };
}

/**
 * Parses an upstream address. Only loopback hosts pass, unlike in Toxiproxy, because the
 * proxy relays to the services a test starts on this machine and must not reach others.
 */
export function parseUpstream(text: string, field: string): HostPort {
  const address = parseHostPort(text, field);
  if (!isLoopbackHost(address.host)) {
    throw invalidField(field, `a loopback address (${LOOPBACK_HOSTS}) of the form host:port`, text);
  }
  return address;
}

/** Formats an address the way Toxiproxy shows it, with brackets around IPv6 hosts. */
export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
