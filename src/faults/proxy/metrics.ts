import { Counter, Registry } from 'prom-client';

import type { StreamDirection } from './toxic-definition.js';

type ProxyLabel = 'direction' | 'proxy' | 'listener' | 'upstream';

/** The labels that name one proxy in its byte counters. */
export interface ProxyLabels {
  readonly proxy: string;
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

  /** Returns the counters of one new connection, labelled with its proxy's current addresses. */
  forLink(labels: ProxyLabels): LinkTraffic {
    // Labels in alphabetical order, the order in which Toxiproxy's exposition lists them.
    const labelsOf = (direction: StreamDirection) => ({
      direction,
      listener: labels.listener,
      proxy: labels.proxy,
      upstream: labels.upstream,
    });
    const received = {
      upstream: this.#received.labels(labelsOf('upstream')),
      downstream: this.#received.labels(labelsOf('downstream')),
    };
    const sent = {
      upstream: this.#sent.labels(labelsOf('upstream')),
      downstream: this.#sent.labels(labelsOf('downstream')),
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
    return {
      received: (direction, bytes) => received[direction].inc(bytes),
      sent: (direction, bytes) => sent[direction].inc(bytes),
    };
  }

  /** Renders every counter in the Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
