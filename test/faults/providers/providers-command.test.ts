import assert from 'node:assert/strict';

import { pino } from 'pino';

import { startProviders } from '../../../src/cli/commands/providers.js';
import type { MockProvider } from '../../../src/faults/providers/index.js';
import { buildProgram } from '../../../src/cli/program.js';

describe('scalegate providers', () => {
  let providers: MockProvider[] = [];

  afterEach(async () => {
    await Promise.all(providers.map((provider) => provider.close()));
    providers = [];
  });

  it('starts one server per profile on free ports', async () => {
    const options = { profile: ['provider-a', 'provider-b'], host: '127.0.0.1', port: 0, seed: 1 };
    providers = await startProviders(options, pino({ level: 'silent' }));
    assert.deepEqual(
      providers.map((provider) => provider.profile.name),
      ['provider-a', 'provider-b'],
    );
    for (const provider of providers) {
      assert.match(provider.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(`${provider.url}/healthz`);
      assert.equal(response.status, 200);
    }
  });

  it('documents each option in --help', () => {
    const command = buildProgram().commands.find((entry) => entry.name() === 'providers');
    assert.ok(command !== undefined);
    const help = command.helpInformation();
    for (const flag of ['--profile', '--port', '--host', '--seed']) {
      assert.ok(help.includes(flag), `help lacks ${flag}`);
    }
  });

  it('rejects a port range past 65535', async () => {
    const options = {
      profile: ['provider-a', 'provider-b'],
      host: '127.0.0.1',
      port: 65535,
      seed: 1,
    };
    await assert.rejects(startProviders(options, pino({ level: 'silent' })), RangeError);
  });
});
