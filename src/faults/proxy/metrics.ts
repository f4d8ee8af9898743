import { Counter, Registry } from 'prom-client';

import type { StreamDirection } from './toxic-definition.js';

type ProxyLabel = 'direction' | 'proxy' | 'listener' | 'upstream';

/** The addresses of one proxy that label its byte counters, besides its name. */
export interface ProxyAddresses {
  /** The proxy's listen address, such as `127.0.0.1:21212`. */
  readonly listener: string;
  readonly upstream: string;
}

/** The byte counters one connection adds to, by direction. */
export interface LinkTraffic {
  /** Counts bytes read from the direction's source socket. */
  received(direction: StreamDirection, bytes: number): void;
  /** Counts bytes handed to the direction's destination socket. */
  sent(direction: StreamDirection, bytes: number): void;
}

/**
 * The proxy counters of Toxiproxy 2.x's `GET /metrics`, with its names and labels:
 * `toxiproxy_proxy_received_bytes_total` and `toxiproxy_proxy_sent_bytes_total`, labelled
 * by `direction` (`upstream` is client to server), `proxy`, `listener` and `upstream`.
 * Toxiproxy adds a connection's bytes once that direction of the connection ends. This
 * proxy adds them as it reads and writes them, so the totals agree once connections close.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly #received: Counter<ProxyLabel>;
  readonly #sent: Counter<ProxyLabel>;

  constructor() {
    const labelNames: ProxyLabel[] = ['direction', 'proxy', 'listener', 'upstream'];
    const registers = [this.registry];
    this.#received = new Counter({
      name: 'toxiproxy_proxy_received_bytes_total',
      help: 'Bytes a proxy read from the sending side of its connections, by direction.',
      labelNames,
      registers,
    });
    this.#sent = new Counter({
      name: 'toxiproxy_proxy_sent_bytes_total',
      help: 'Bytes a proxy wrote to the receiving side of its connections, by direction.',
      labelNames,
      registers,
    });
  }

  /** Returns the series of a new proxy named `proxy`. */
  forProxy(proxy: string): ProxySeries {
    return new ProxySeries(proxy, this.#received, this.#sent);
  }

  /** Renders every counter in the Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * The byte counter series of one proxy, one per direction and per listen and upstream
 * address the proxy had. {@link remove} deletes them when the proxy is deleted.
 */
export class ProxySeries {
  readonly #proxy: string;
  readonly #received: Counter<ProxyLabel>;
  readonly #sent: Counter<ProxyLabel>;
  /** Every label set this proxy created, by its JSON text. */
  readonly #labelSets = new Map<string, Record<ProxyLabel, string>>();
  #removed = false;

  constructor(proxy: string, received: Counter<ProxyLabel>, sent: Counter<ProxyLabel>) {
    this.#proxy = proxy;
    this.#received = received;
    this.#sent = sent;
  }

  /**
   * Returns the counters of one new connection, labelled with the proxy's current addresses.
   * After {@link remove}, they count nothing.
   */
  forLink(addresses: ProxyAddresses): LinkTraffic {
    if (this.#removed) return { received: () => {}, sent: () => {} };
    const received = {
      upstream: this.#received.labels(this.#labels('upstream', addresses)),
      downstream: this.#received.labels(this.#labels('downstream', addresses)),
    };
    const sent = {
      upstream: this.#sent.labels(this.#labels('upstream', addresses)),
      downstream: this.#sent.labels(this.#labels('downstream', addresses)),
    };
    // Adding 0 creates each series at 0 when the connection opens, so a scrape lists a
    // direction that has moved no bytes yet.
    for (const counter of [
      received.upstream,
      received.downstream,
      sent.upstream,
      sent.downstream,
    ]) {
      counter.inc(0);
    }
    // A connection may still move bytes while the deleted proxy closes it, and counting
    // them would create the deleted series again.
    return {
      received: (direction, bytes) => {
        if (!this.#removed) received[direction].inc(bytes);
      },
      sent: (direction, bytes) => {
        if (!this.#removed) sent[direction].inc(bytes);
      },
    };
  }

  /** Deletes every series of the proxy, so that `GET /metrics` no longer lists them. */
  remove(): void {
    this.#removed = true;
    for (const labels of this.#labelSets.values()) {
      this.#received.remove(labels);
      this.#sent.remove(labels);
    }
    this.#labelSets.clear();
  }

  #labels(direction: StreamDirection, addresses: ProxyAddresses): Record<ProxyLabel, string> {
    // Labels in alphabetical order, the order in which Toxiproxy's exposition lists them.
    const labels = {
      direction,
      listener: addresses.listener,
      proxy: this.#proxy,
      upstream: addresses.upstream,
    };
    this.#labelSets.set(JSON.stringify(labels), labels);
    return labels;
  }
}
