import { type FaultProxyHandle, startFaultProxy } from '../../../src/faults/proxy/index.js';
import { defineToxiproxyConformance } from './conformance.js';

describe('FaultProxy (embedded)', () => {
  let server: FaultProxyHandle;

  before(async () => {
    server = await startFaultProxy({ port: 0 });
  });

  after(async () => {
    await server.close();
  });

  defineToxiproxyConformance(() => server.url);
});
