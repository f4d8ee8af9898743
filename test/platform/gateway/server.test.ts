import assert from 'node:assert/strict';

import { isNonLoopbackHostError } from '../../../src/faults/loopback.js';
import { type StartGatewayOptions, startGateway } from '../../../src/platform/gateway/server.js';

describe('startGateway', () => {
  it('rejects a host off loopback', async () => {
    // The host is checked before any other option is read, so the rest can stay empty.
    const options = { host: '0.0.0.0', port: 0 } as StartGatewayOptions;
    await assert.rejects(startGateway(options), (error: unknown) => {
      assert.ok(isNonLoopbackHostError(error));
      assert.equal(error.host, '0.0.0.0');
      assert.equal(error.option, 'host');
      return true;
    });
  });
});
