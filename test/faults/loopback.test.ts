import assert from 'node:assert/strict';

import {
  assertLoopbackHost,
  isLoopbackHost,
  isNonLoopbackHostError,
  NonLoopbackHostError,
} from '../../src/faults/loopback.js';
import { startMockProvider } from '../../src/faults/providers/index.js';
import { startFaultProxy } from '../../src/faults/proxy/index.js';
import { testProfile } from './providers/support.js';

describe('assertLoopbackHost', () => {
  for (const host of ['127.0.0.1', '127.10.0.5', 'localhost', '::1', '0:0:0:0:0:0:0:1']) {
    it(`accepts ${host}`, () => {
      assert.equal(isLoopbackHost(host), true);
      assert.doesNotThrow(() => assertLoopbackHost(host, 'host'));
    });
  }

  for (const host of ['0.0.0.0', '::', '192.168.1.1', '::ffff:127.0.0.1', 'example.test', '']) {
    it(`rejects ${JSON.stringify(host)}`, () => {
      assert.equal(isLoopbackHost(host), false);
    });
  }

  it('names the option, the value and the fix', () => {
    assert.throws(
      () => assertLoopbackHost('0.0.0.0', '--host'),
      (error: unknown) =>
        isNonLoopbackHostError(error) &&
        error.code === 'non_loopback_host' &&
        error.option === '--host' &&
        error.host === '0.0.0.0' &&
        error.message ===
          'invalid --host "0.0.0.0": expected a loopback host (127.0.0.0/8, ::1 or localhost); ' +
            'use --host 127.0.0.1',
    );
  });

  it('is a RangeError', () => {
    assert.ok(new NonLoopbackHostError('host', '10.0.0.1') instanceof RangeError);
  });
});

describe('loopback-only servers', () => {
  it('startFaultProxy rejects host 0.0.0.0 before listening', async () => {
    await assert.rejects(startFaultProxy({ host: '0.0.0.0', port: 0 }), {
      name: 'NonLoopbackHostError',
      code: 'non_loopback_host',
      option: 'host',
      host: '0.0.0.0',
    });
  });

  it('startMockProvider rejects host 192.168.1.1 before listening', async () => {
    await assert.rejects(startMockProvider({ profile: testProfile(), host: '192.168.1.1' }), {
      name: 'NonLoopbackHostError',
      code: 'non_loopback_host',
      option: 'host',
      host: '192.168.1.1',
    });
  });

  it('startMockProvider listens on localhost', async () => {
    const provider = await startMockProvider({ profile: testProfile(), host: 'localhost' });
    try {
      assert.match(provider.url, /^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/);
    } finally {
      await provider.close();
    }
  });
});
