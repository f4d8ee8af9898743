import assert from 'node:assert/strict';

import { withoutAddresses } from '../../../src/platform/runtime/internal-addresses.js';

describe('withoutAddresses', () => {
  const cases: [string, string, string][] = [
    ['IPv4 and port', 'connect ECONNREFUSED 127.0.0.1:42755', 'connect ECONNREFUSED p'],
    ['bare IPv6 and port', 'connect ECONNREFUSED ::1:8080', 'connect ECONNREFUSED p'],
    ['bracketed IPv6', 'connect ECONNREFUSED [::1]:8080', 'connect ECONNREFUSED p'],
    ['long IPv6', 'connect ETIMEDOUT fe80::1ff:fe23:4567:890a', 'connect ETIMEDOUT p'],
    ['URL', 'request to http://10.0.0.5:9000/v1/chat failed', 'request to p/v1/chat failed'],
    ['looked-up host', 'getaddrinfo ENOTFOUND provider-a.internal', 'getaddrinfo ENOTFOUND p'],
    ['dotted host and port', 'connect to api.internal:443 failed', 'connect to p failed'],
    ['localhost and port', 'localhost:3000 refused', 'p refused'],
    ['bare IPv4', 'reset by 10.1.2.3', 'reset by p'],
  ];
  for (const [name, message, expected] of cases) {
    it(`replaces ${name}`, () => {
      assert.equal(withoutAddresses(message, 'p'), expected);
    });
  }

  it('keeps text without addresses', () => {
    const messages = [
      'provider-a/gpt-4o: HTTP 429 rate_limit_error retry after 12:30',
      'attempts: provider-a/gpt-4o: connection_error, provider-b/claude-sonnet: status_5xx',
      'stream interrupted after the first token: Error other side closed',
    ];
    for (const message of messages) {
      assert.equal(withoutAddresses(message, 'p'), message);
    }
  });
});
