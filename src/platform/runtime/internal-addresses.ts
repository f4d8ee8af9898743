/**
 * Network addresses as Node and undici print them in error messages. They are the scheme
 * and authority of a URL, an IPv6 address in brackets or with two or more colons, and an
 * IPv4 address, each with an optional port, and `localhost` or a dotted host name with a port.
 */
const ADDRESS = new RegExp(
  [
    String.raw`\b[a-z][a-z0-9+.-]*://[^\s/?#]+`,
    String.raw`\[[0-9a-f:.]+\](?::\d{1,5})?`,
    String.raw`(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?::\d{1,5})?(?![\w:])`,
    String.raw`\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b`,
    String.raw`\b(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+):\d{1,5}\b`,
  ].join('|'),
  'gi',
);

/** A host name after a failed DNS lookup, as in `getaddrinfo ENOTFOUND provider.internal`. */
const LOOKUP_HOST = /\b(getaddrinfo [A-Z_]+) [^\s;,]+/g;

/**
 * Returns `message` with each network address replaced by `replacement`, such as a
 * provider's name, so that a tenant-facing message does not show the platform's internal
 * addresses. A string that merely looks like an IPv4 address, such as a version `1.2.3.4`,
 * is replaced too.
 */
export function withoutAddresses(message: string, replacement: string): string {
  return message
    .replace(LOOKUP_HOST, (_match, lookup: string) => `${lookup} ${replacement}`)
    .replace(ADDRESS, replacement);
}
