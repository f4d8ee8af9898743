import type { Server, Socket } from 'node:net';

import type { Clock } from '../../platform/clock.js';
import { formatHostPort, type HostPort, parseHostPort } from './address.js';
import { FaultProxyError } from './errors.js';
import { Link } from './link.js';
import { closeListener, openListener } from './listener.js';
import type { ProxyMetrics, ProxySeries } from './metrics.js';
import { parseToxicCreate, parseToxicUpdate, type ToxicDefinition } from './toxic-definition.js';

/** A proxy as the API shows it. */
export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicDefinition[];
}

/** Fields a proxy update may change. */
export interface ProxyChanges {
  readonly listen: HostPort;
  readonly upstream: string;
  readonly enabled: boolean;
}

/** Options shared by every proxy of one server. */
export interface ProxyOptions {
  readonly clock: Clock;
  readonly random: () => number;
  readonly metrics: ProxyMetrics;
}

/** One named TCP proxy: a loopback listener, its open links and its toxics. */
export class FaultProxyEntry {
  readonly name: string;
  #listen: HostPort;
  #upstream: string;
  #server: Server | undefined;
  readonly #links = new Set<Link>();
  readonly #toxics: ToxicDefinition[] = [];
  readonly #options: ProxyOptions;
  readonly #series: ProxySeries;

  constructor(name: string, listen: HostPort, upstream: string, options: ProxyOptions) {
    this.name = name;
    this.#listen = listen;
    this.#upstream = upstream;
    this.#options = options;
    this.#series = options.metrics.forProxy(name);
  }

  get enabled(): boolean {
    return this.#server !== undefined;
  }

  get listen(): HostPort {
    return this.#listen;
  }

  get upstream(): string {
    return this.#upstream;
  }

  /** Starts listening; the first start fixes a requested port 0 to the real port. */
  async enable(): Promise<void> {
    if (this.#server !== undefined) {
      return;
    }
    const { server, bound } = await openListener(this.#listen, (socket) => this.#accept(socket));
    this.#server = server;
    this.#listen = bound;
  }

  /** Closes the listener and drops every open connection. */
  async disable(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const link of this.#links) {
      link.destroy();
    }
    this.#links.clear();
    if (server !== undefined) {
      await closeListener(server);
    }
  }

  /**
   * Deletes the proxy's metric series and stops it. The series go first, so that a new proxy
   * of the same name, created while this one closes, keeps its own.
   */
  async delete(): Promise<void> {
    this.#series.remove();
    await this.disable();
  }

  /** Applies an update; a new listen or upstream address restarts the proxy. */
  async update(changes: ProxyChanges): Promise<void> {
    const moved =
      formatHostPort(changes.listen) !== formatHostPort(this.#listen) ||
      changes.upstream !== this.#upstream;
    if (moved || !changes.enabled) {
      await this.disable();
    }
    this.#listen = changes.listen;
    this.#upstream = changes.upstream;
    if (changes.enabled) {
      await this.enable();
    }
  }

  toxics(): ToxicDefinition[] {
    return [...this.#toxics];
  }

  /** Bytes queued in the toxic stages of every open connection. */
  get queuedBytes(): number {
    let total = 0;
    for (const link of this.#links) {
      total += link.queuedBytes;
    }
    return total;
  }

  /** Returns the named toxic, or throws a 404. */
  toxic(name: string): ToxicDefinition {
    const toxic = this.#toxics.find((entry) => entry.name === name);
    if (toxic === undefined) {
      throw new FaultProxyError(
        'toxic_not_found',
        `toxic not found: "${name}" on proxy "${this.name}"`,
      );
    }
    return toxic;
  }

  /** Validates and adds a toxic to the proxy and to every open connection. */
  addToxic(body: unknown): ToxicDefinition {
    const toxic = parseToxicCreate(body);
    if (this.#toxics.some((entry) => entry.name === toxic.name)) {
      throw new FaultProxyError('toxic_exists', `toxic already exists: "${toxic.name}"`, 'name');
    }
    this.#toxics.push(toxic);
    for (const link of this.#links) {
      link.addToxic(toxic);
    }
    return toxic;
  }

  /** Changes a toxic's toxicity or attributes and restarts it on open connections. */
  async updateToxic(name: string, body: unknown): Promise<ToxicDefinition> {
    const index = this.#toxics.indexOf(this.toxic(name));
    const updated = parseToxicUpdate(this.toxic(name), body);
    this.#toxics[index] = updated;
    await Promise.all([...this.#links].map((link) => link.updateToxic(updated)));
    return updated;
  }

  /** Removes a toxic from the proxy and from every open connection. */
  async removeToxic(name: string): Promise<void> {
    const toxic = this.toxic(name);
    this.#toxics.splice(this.#toxics.indexOf(toxic), 1);
    await Promise.all([...this.#links].map((link) => link.removeToxic(toxic)));
  }

  /** Removes every toxic. */
  async removeAllToxics(): Promise<void> {
    for (const toxic of this.toxics()) {
      await this.removeToxic(toxic.name);
    }
  }

  toJSON(): ProxyJson {
    return {
      name: this.name,
      listen: formatHostPort(this.#listen),
      upstream: this.#upstream,
      enabled: this.enabled,
      toxics: this.toxics(),
    };
  }

  #accept(client: Socket): void {
    const traffic = this.#series.forLink({
      listener: formatHostPort(this.#listen),
      upstream: this.#upstream,
    });
    const link = new Link(client, this.#toxics, {
      upstream: parseHostPort(this.#upstream, 'upstream'),
      clock: this.#options.clock,
      random: this.#options.random,
      traffic,
      onClose: () => this.#links.delete(link),
    });
    this.#links.add(link);
  }
}
