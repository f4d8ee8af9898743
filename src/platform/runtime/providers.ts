import { randomBytes } from 'node:crypto';

import { Toxiproxy } from 'toxiproxy-node-client';

import {
  type MockProvider,
  type ProviderProfile,
  startMockProvider,
} from '../../faults/providers/index.js';
import { type FaultProxyHandle, startFaultProxy } from '../../faults/proxy/index.js';
import type { Clock } from '../clock.js';
import type { ProviderEndpoint } from '../providers/types.js';

/** One mock provider behind its fault proxy. */
export interface ProxiedProvider {
  name: string;
  provider: MockProvider;
  /** Base URL of the proxy listener the router calls. */
  proxyUrl: string;
}

export interface ProviderFleet {
  proxy: FaultProxyHandle;
  providers: ProxiedProvider[];
  /** Router endpoints, keyed by provider name; each goes through its proxy. */
  endpoints: Record<string, ProviderEndpoint>;
  close(): Promise<void>;
}

/**
 * Starts a mock provider per profile and a fault proxy with one TCP proxy
 * (named after the provider) in front of each, all on 127.0.0.1 free ports.
 * Each run uses a fresh random provider API key, kept out of every log.
 */
export async function startProviderFleet(
  profiles: readonly ProviderProfile[],
  clock: Clock,
  seed = 1,
): Promise<ProviderFleet> {
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: 0, clock });
  const toxiproxy = new Toxiproxy(proxy.url);
  const providers: ProxiedProvider[] = [];
  const endpoints: Record<string, ProviderEndpoint> = {};
  const apiKey = `sk-mock-${randomBytes(12).toString('hex')}`;
  try {
    for (const [index, profile] of profiles.entries()) {
      const provider = await startMockProvider({
        profile,
        host: '127.0.0.1',
        port: 0,
        seed: seed + index,
        clock,
      });
      const upstream = `127.0.0.1:${provider.port}`;
      const created = await toxiproxy.createProxy({
        name: profile.name,
        listen: '127.0.0.1:0',
        upstream,
      });
      const proxyUrl = `http://${created.listen}`;
      providers.push({ name: profile.name, provider, proxyUrl });
      endpoints[profile.name] = { baseUrl: proxyUrl, apiKey };
    }
  } catch (error) {
    await closeFleet(proxy, providers);
    throw error;
  }
  return { proxy, providers, endpoints, close: () => closeFleet(proxy, providers) };
}

async function closeFleet(proxy: FaultProxyHandle, providers: readonly ProxiedProvider[]) {
  await proxy.close();
  await Promise.all(providers.map((entry) => entry.provider.close()));
}
