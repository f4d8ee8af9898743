import { Toxiproxy } from 'toxiproxy-node-client';

import { type FaultProxyHandle, startFaultProxy } from '../../../src/faults/proxy/index.js';
import {
  type MockProvider,
  startMockProvider,
} from '../../../src/faults/providers/mock-provider.js';
import { loadProviderProfile } from '../../../src/faults/providers/profile.js';
import { createFaultDriver } from '../../../src/harness/drill/fault-driver.js';
import type { FaultDriver } from '../../../src/harness/drill/deps.js';

/** A fault proxy with one proxy `provider-b` in front of a mock provider-b, plus a mock provider-a. */
export interface FaultBench {
  proxy: FaultProxyHandle;
  toxiproxy: Toxiproxy;
  providerA: MockProvider;
  providerB: MockProvider;
  driver: FaultDriver;
  toxicsOn(proxy: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startFaultBench(): Promise<FaultBench> {
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  const providerA = await startMockProvider({
    profile: await loadProviderProfile('provider-a'),
    port: 0,
  });
  const providerB = await startMockProvider({
    profile: await loadProviderProfile('provider-b'),
    port: 0,
  });
  const toxiproxy = new Toxiproxy(proxy.url);
  await toxiproxy.createProxy({
    name: 'provider-b',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${providerB.port}`,
  });
  const driver = createFaultDriver({
    toxiproxyUrl: proxy.url,
    providers: { 'provider-a': providerA.url, 'provider-b': providerB.url },
  });
  return {
    proxy,
    toxiproxy,
    providerA,
    providerB,
    driver,
    async toxicsOn(name) {
      const listing = await toxiproxy.getApi().get(`${proxy.url}/proxies/${name}/toxics`);
      return ((listing.data ?? []) as { name: string }[]).map((toxic) => toxic.name);
    },
    async close() {
      await Promise.all([proxy.close(), providerA.close(), providerB.close()]);
    },
  };
}
