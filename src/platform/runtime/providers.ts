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
  /** Base URL of the mock provider itself, where its control endpoint and metrics are. */
  url: string;
  /** Base URL of the proxy listener the router calls. */
  proxyUrl: string;
}

export interface ProviderFleet {
  /** Base URL of the fault proxy's Toxiproxy-compatible API. */
  proxyApiUrl: string;
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
  const mocks: MockProvider[] = [];
  const providers: ProxiedProvider[] = [];
  const endpoints: Record<string, ProviderEndpoint> = {};
  const apiKey = `sk-mock-${randomBytes(12).toString('hex')}`;
  const close = () => closeFleet(proxy, mocks);
  try {
    for (const [index, profile] of profiles.entries()) {
      const provider = await startMockProvider({
        profile,
        host: '127.0.0.1',
        port: 0,
        seed: seed + index,
        clock,
      });
      mocks.push(provider);
      const created = await toxiproxy.createProxy({
        name: profile.name,
        listen: '127.0.0.1:0',
        upstream: `127.0.0.1:${provider.port}`,
      });
      const proxyUrl = `http://${created.listen}`;
      providers.push({ name: profile.name, url: provider.url, proxyUrl });
      endpoints[profile.name] = { baseUrl: proxyUrl, apiKey };
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { proxyApiUrl: proxy.url, providers, endpoints, close };
}

async function closeFleet(proxy: FaultProxyHandle, mocks: readonly MockProvider[]) {
  await proxy.close();
  await Promise.all(mocks.map((mock) => mock.close()));
}
