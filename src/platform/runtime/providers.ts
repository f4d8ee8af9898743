import { randomBytes } from 'node:crypto';

import type { Toxiproxy } from 'toxiproxy-node-client';

import {
  type MockProvider,
  type ProviderProfile,
  startMockProvider,
} from '../../faults/providers/index.js';
import { startFaultProxy } from '../../faults/proxy/index.js';
import { isLoopbackUrlHost, LOOPBACK_HOSTS } from '../../faults/loopback.js';
import type { Clock } from '../clock.js';
import type { ProviderEndpoint } from '../providers/types.js';
import { createToxiproxyClient } from './toxiproxy-client.js';

/** One mock provider behind its fault proxy. */
export interface ProxiedProvider {
  name: string;
  /** Base URL of the mock provider itself, where its control endpoint and metrics are. */
  url: string;
  /** Base URL the router calls: the proxy listener, or the mock provider itself when `direct`. */
  proxyUrl: string;
}

export interface ProviderFleet {
  /** Base URL of the fault proxy's Toxiproxy-compatible API, or undefined when `direct`. */
  proxyApiUrl: string | undefined;
  providers: ProxiedProvider[];
  /** Router endpoints, keyed by provider name; each goes through its proxy. */
  endpoints: Record<string, ProviderEndpoint>;
  close(): Promise<void>;
}

/** Location of the fleet's fault proxy API: the embedded proxy, or a running Toxiproxy. */
export interface FleetProxyOptions {
  /**
   * Base URL of a running Toxiproxy 2.x (or compatible) API on a loopback address; the
   * fleet creates its proxies there and deletes them on close.
   * @defaultValue undefined, which starts the embedded fault proxy
   */
  toxiproxyUrl?: string;
  /**
   * Sends provider calls straight to the mock providers, with no proxy in between, so
   * faults cannot be injected. Capacity benchmarks use it: the proxy's relay is not part
   * of the platform and costs CPU per call.
   * @defaultValue false
   */
  direct?: boolean;
}

/**
 * Starts a mock provider per profile and one TCP proxy (named after the provider) in front
 * of each, all on 127.0.0.1 free ports. The proxies live in the embedded fault proxy, or in
 * the Toxiproxy at `toxiproxyUrl`. Each run uses a fresh random provider API key, kept out
 * of every log.
 */
export async function startProviderFleet(
  profiles: readonly ProviderProfile[],
  clock: Clock,
  seed = 1,
  options: FleetProxyOptions = {},
): Promise<ProviderFleet> {
  const proxyApi =
    options.direct === true ? undefined : await openProxyApi(clock, options.toxiproxyUrl);
  const toxiproxy = proxyApi === undefined ? undefined : createToxiproxyClient(proxyApi.url);
  const mocks: MockProvider[] = [];
  const providers: ProxiedProvider[] = [];
  const endpoints: Record<string, ProviderEndpoint> = {};
  const apiKey = `sk-mock-${randomBytes(12).toString('hex')}`;
  const close = async (): Promise<void> => {
    await proxyApi?.close(providers.map((entry) => entry.name));
    await Promise.all(mocks.map((mock) => mock.close()));
  };
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
      const proxyUrl =
        toxiproxy === undefined
          ? provider.url
          : await createProviderProxy(toxiproxy, profile.name, provider.port);
      providers.push({ name: profile.name, url: provider.url, proxyUrl });
      endpoints[profile.name] = { baseUrl: proxyUrl, apiKey };
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { proxyApiUrl: proxyApi?.url, providers, endpoints, close };
}

interface ProxyApi {
  url: string;
  /** Stops the embedded proxy, or deletes the named proxies from an external Toxiproxy. */
  close(proxyNames: readonly string[]): Promise<void>;
}

async function openProxyApi(clock: Clock, toxiproxyUrl: string | undefined): Promise<ProxyApi> {
  if (toxiproxyUrl === undefined || toxiproxyUrl === '') {
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: 0, clock });
    return { url: proxy.url, close: () => proxy.close() };
  }
  const url = new URL(toxiproxyUrl);
  if (!isLoopbackUrlHost(url)) {
    throw new RangeError(
      `invalid TOXIPROXY_URL ${JSON.stringify(toxiproxyUrl)}: expected a Toxiproxy on a ` +
        `loopback address (${LOOPBACK_HOSTS}), such as http://127.0.0.1:8474`,
    );
  }
  const base = url.origin;
  // NOTE: this path has only run against the embedded proxy; no Toxiproxy binary exists
  // on the build machines. It relies on Toxiproxy reporting the bound port in `listen`.
  return {
    url: base,
    close: async (names) => {
      const toxiproxy = createToxiproxyClient(base);
      await Promise.all(
        names.map(async (name) => (await toxiproxy.get(name).catch(() => undefined))?.remove()),
      );
    },
  };
}

async function createProviderProxy(
  toxiproxy: Toxiproxy,
  name: string,
  providerPort: number,
): Promise<string> {
  let created: Awaited<ReturnType<Toxiproxy['createProxy']>>;
  try {
    created = await toxiproxy.createProxy({
      name,
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${providerPort}`,
    });
  } catch (error) {
    throw new Error(
      `failed to create proxy ${name} on ${toxiproxy.host}: ${String(error)}; if a ` +
        `previous run left it, delete it with DELETE /proxies/${name}`,
      { cause: error },
    );
  }
  // The listen address comes from the Toxiproxy's reply, and the router would call it.
  const url = `http://${created.listen}`;
  if (!isLoopbackUrl(url)) {
    await created.remove().catch(() => undefined);
    throw new RangeError(
      `Toxiproxy at ${toxiproxy.host} created proxy ${name} on ${JSON.stringify(created.listen)}, ` +
        `not on a loopback address (${LOOPBACK_HOSTS}); point TOXIPROXY_URL at a Toxiproxy ` +
        'that listens on 127.0.0.1, or leave it empty to use the embedded fault proxy',
    );
  }
  return url;
}

/** Returns whether `url` parses and names a loopback host. */
function isLoopbackUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  return isLoopbackUrlHost(new URL(url));
}
