import { FaultProxyError, invalidField } from './errors.js';
import type { ProxyMetrics } from './metrics.js';
import { FaultProxyEntry, type ProxyJson, type ProxyOptions } from './proxy.js';
import { type ProxyCreate, parseProxyCreate, parseProxyUpdate } from './proxy-body.js';

/** Every proxy of one fault proxy server, by name. */
export class ProxyCollection {
  readonly #proxies = new Map<string, FaultProxyEntry>();
  /** Names whose create is in progress, so a concurrent create of the same name gets 409. */
  readonly #pending = new Set<string>();
  readonly #options: ProxyOptions;

  constructor(options: ProxyOptions) {
    this.#options = options;
  }

  /** The byte counters of every proxy, which `GET /metrics` serves. */
  get metrics(): ProxyMetrics {
    return this.#options.metrics;
  }

  /** Bytes queued in the toxic stages of every open connection of every proxy. */
  get queuedBytes(): number {
    let total = 0;
    for (const proxy of this.#proxies.values()) {
      total += proxy.queuedBytes;
    }
    return total;
  }

  list(): FaultProxyEntry[] {
    return [...this.#proxies.values()];
  }

  /** Returns the named proxy, or throws a 404. */
  get(name: string): FaultProxyEntry {
    const proxy = this.#proxies.get(name);
    if (proxy === undefined) {
      throw new FaultProxyError('proxy_not_found', `proxy not found: "${name}"`);
    }
    return proxy;
  }

  /** Creates and starts a proxy; nothing is registered when its listener fails to open. */
  async create(body: unknown): Promise<FaultProxyEntry> {
    return this.#add(parseProxyCreate(body));
  }

  async update(name: string, body: unknown): Promise<FaultProxyEntry> {
    const proxy = this.get(name);
    await proxy.update(parseProxyUpdate(body, proxy));
    return proxy;
  }

  /** Stops the proxy and deletes it, with its metric series. */
  async remove(name: string): Promise<void> {
    const proxy = this.get(name);
    this.#proxies.delete(name);
    await proxy.delete();
  }

  /**
   * Creates or replaces a list of proxies. A proxy with the same name, upstream and
   * listen address (port 0 matches any port) is kept as it is. Every entry is validated
   * before any change; a later failure returns the proxies applied so far.
   */
  async populate(body: unknown): Promise<{ proxies: ProxyJson[]; error?: FaultProxyError }> {
    if (!Array.isArray(body)) {
      throw invalidField('body', 'a JSON array of proxies', body);
    }
    const inputs = body.map((entry, index) => parseProxyCreate(entry, `[${index}].`));
    const applied: ProxyJson[] = [];
    for (const input of inputs) {
      try {
        applied.push((await this.#replace(input)).toJSON());
      } catch (error) {
        if (error instanceof FaultProxyError) return { proxies: applied, error };
        throw error;
      }
    }
    return { proxies: applied };
  }

  /** Enables every proxy and removes every toxic. */
  async reset(): Promise<void> {
    for (const proxy of this.list()) {
      await proxy.removeAllToxics();
      await proxy.enable();
    }
  }

  /** Stops every proxy and removes it from the collection. */
  async closeAll(): Promise<void> {
    const proxies = this.list();
    this.#proxies.clear();
    await Promise.all(proxies.map((proxy) => proxy.disable()));
  }

  async #replace(input: ProxyCreate): Promise<FaultProxyEntry> {
    const existing = this.#proxies.get(input.name);
    if (existing !== undefined && sameAddresses(existing, input)) {
      return existing;
    }
    if (existing !== undefined) {
      await this.remove(input.name);
    }
    return this.#add(input);
  }

  async #add(input: ProxyCreate): Promise<FaultProxyEntry> {
    if (this.#proxies.has(input.name) || this.#pending.has(input.name)) {
      throw new FaultProxyError('proxy_exists', `proxy already exists: "${input.name}"`, 'name');
    }
    this.#pending.add(input.name);
    try {
      const proxy = new FaultProxyEntry(input.name, input.listen, input.upstream, this.#options);
      if (input.enabled) {
        await proxy.enable();
      }
      this.#proxies.set(input.name, proxy);
      return proxy;
    } finally {
      this.#pending.delete(input.name);
    }
  }
}

function sameAddresses(proxy: FaultProxyEntry, input: ProxyCreate): boolean {
  const samePort = input.listen.port === 0 || input.listen.port === proxy.listen.port;
  return proxy.upstream === input.upstream && input.listen.host === proxy.listen.host && samePort;
}
