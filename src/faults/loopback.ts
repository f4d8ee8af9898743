import { isIP } from 'node:net';

/** Hosts that {@link assertLoopbackHost} accepts, as shown in its error message. */
export const LOOPBACK_HOSTS = '127.0.0.0/8, ::1 or localhost';

/**
 * Raised when a server is asked to listen on a host outside the loopback interface.
 * scalegate's mocks and proxies are test tools that must not be reachable from other machines.
 */
export class NonLoopbackHostError extends RangeError {
  override readonly name = 'NonLoopbackHostError';
  readonly code = 'non_loopback_host';
  /** Option that carried the host, such as `host` or `--host`. */
  readonly option: string;
  readonly host: string;

  constructor(option: string, host: string) {
    super(
      `invalid ${option} ${JSON.stringify(host)}: expected a loopback host (${LOOPBACK_HOSTS}); ` +
        `use ${option === '--host' ? '--host ' : ''}127.0.0.1`,
    );
    this.option = option;
    this.host = host;
  }
}

/** Returns whether `value` is a {@link NonLoopbackHostError}. */
export function isNonLoopbackHostError(value: unknown): value is NonLoopbackHostError {
  return value instanceof NonLoopbackHostError;
}

/** Returns whether `host` is `localhost`, an IPv4 address in 127.0.0.0/8 or the IPv6 ::1. */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') {
    return true;
  }
  if (isIP(host) === 4) {
    return host.startsWith('127.');
  }
  return isIP(host) === 6 && normalizeIpv6(host) === '[::1]';
}

/**
 * Returns whether a parsed URL's host is a loopback host. A URL keeps an IPv6 host in
 * brackets (`http://[::1]:8474` has the hostname `[::1]`), which this strips first.
 */
export function isLoopbackUrlHost(url: URL): boolean {
  return isLoopbackHost(url.hostname.replace(/^\[(.*)\]$/, '$1'));
}

/** Returns the canonical bracketed form of an IPv6 address: `[::1]` for `0:0:0:0:0:0:0:1`. */
function normalizeIpv6(host: string): string | undefined {
  try {
    return new URL(`http://[${host}]/`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * Throws {@link NonLoopbackHostError} naming `option` unless `host` is a loopback host.
 * `0.0.0.0`, `::` and every other interface's address are rejected.
 */
export function assertLoopbackHost(host: string, option: string): void {
  if (!isLoopbackHost(host)) {
    throw new NonLoopbackHostError(option, host);
  }
}
