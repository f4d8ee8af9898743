import { connect, type Socket } from 'node:net';

import type { Clock } from '../../platform/clock.js';
import type { HostPort } from './address.js';
import { SourceBackpressure } from './backpressure.js';
import { DirectionChain, SocketSink } from './chain.js';
import type { LinkTraffic } from './metrics.js';
import {
  type ConnectionControl,
  MAX_CHUNK_BYTES,
  type ToxicBehaviour,
  ToxicStage,
} from './stage.js';
import type { StreamDirection, ToxicDefinition } from './toxic-definition.js';
import { TOXIC_BEHAVIOURS, TOXIC_QUEUE_CHUNKS } from './toxics/index.js';
import { passThrough } from './toxics/pass-through.js';

/** Options of one proxied connection. */
export interface LinkOptions {
  readonly upstream: HostPort;
  readonly clock: Clock;
  /** Uniform random numbers in [0, 1) for toxicity draws and jitter. */
  readonly random: () => number;
  /** Byte counters of the connection's proxy. */
  readonly traffic: LinkTraffic;
  /** Called once, after both sockets closed. */
  readonly onClose: () => void;
}

/**
 * One client connection and its upstream connection, with a chain of toxics per
 * direction: `upstream` carries client to server, `downstream` server to client.
 */
export class Link implements ConnectionControl {
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #options: LinkOptions;
  readonly #chains: Record<StreamDirection, DirectionChain>;
  /** Directions whose end, once written to their destination, closes the connection. */
  readonly #closeAfterEnd = new Set<StreamDirection>();
  #closing = false;

  constructor(client: Socket, toxics: readonly ToxicDefinition[], options: LinkOptions) {
    this.#options = options;
    this.#client = client;
    this.#upstream = connect({ ...options.upstream, allowHalfOpen: true, noDelay: true });
    client.setNoDelay(true);
    this.#chains = {
      upstream: this.#createChain('upstream', client, this.#upstream),
      downstream: this.#createChain('downstream', this.#upstream, client),
    };
    for (const toxic of toxics) {
      this.addToxic(toxic);
    }
    this.#pipe('upstream', client);
    this.#pipe('downstream', this.#upstream);
    this.#watchClose();
  }

  /** Bytes queued in the toxic stages of both directions. */
  get queuedBytes(): number {
    return this.#chains.upstream.queuedBytes + this.#chains.downstream.queuedBytes;
  }

  /** Adds a toxic, drawing against its toxicity whether it acts on this connection. */
  addToxic(toxic: ToxicDefinition): void {
    const chain = this.#chains[toxic.stream];
    const options = {
      clock: this.#options.clock,
      random: this.#options.random,
      connection: this,
      backpressure: chain.backpressure,
      endStream: (stage: ToxicStage) => void this.#endStreamAt(toxic.stream, stage),
      maxQueuedChunks: TOXIC_QUEUE_CHUNKS[toxic.type],
    };
    chain.add(toxic.name, new ToxicStage(this.#draw(toxic), toxic.attributes, chain.sink, options));
  }

  /**
   * Restarts a toxic with new attributes and draws its toxicity again, as Toxiproxy 2.x
   * does, so raising the toxicity reaches open connections too.
   */
  async updateToxic(toxic: ToxicDefinition): Promise<void> {
    await this.#chains[toxic.stream].find(toxic.name)?.restart(toxic.attributes, this.#draw(toxic));
  }

  /** Returns the toxic's behaviour when a draw falls under its toxicity, else a pass-through. */
  #draw(toxic: ToxicDefinition): ToxicBehaviour {
    return this.#options.random() < toxic.toxicity ? TOXIC_BEHAVIOURS[toxic.type] : passThrough;
  }

  /**
   * Removes a toxic and passes on the data it held. Removing a timeout toxic instead ends the
   * stream in its place, whatever its toxicity draw chose (see `#endStreamAt`). Toxiproxy
   * (link.go and toxics/timeout.go, read at 2.5 and later) does the same: `RemoveToxic` runs
   * the timeout toxic's `Cleanup`, which closes that toxic's output, the next toxic's input.
   */
  async removeToxic(toxic: ToxicDefinition): Promise<void> {
    const chain = this.#chains[toxic.stream];
    const stage = chain.find(toxic.name);
    if (stage === undefined) {
      return;
    }
    if (toxic.type !== 'timeout') {
      await chain.remove(toxic.name);
      return;
    }
    await this.#endStreamAt(toxic.stream, stage);
  }

  close(): void {
    this.#stopChains();
    for (const socket of [this.#client, this.#upstream]) {
      socket.end(() => socket.destroy());
    }
  }

  reset(): void {
    this.#stopChains();
    for (const socket of [this.#client, this.#upstream]) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
  }

  /** Drops both sockets at once, as when the proxy is disabled or deleted. */
  destroy(): void {
    this.#stopChains();
    this.#client.destroy();
    this.#upstream.destroy();
  }

  /**
   * Ends the stream of `direction` in place of `stage` and closes both sockets once the end has
   * passed the toxics after it, so a later slow_close delays the close and a later latency
   * toxic first delivers the data it holds. With no toxics after it the close is immediate.
   */
  async #endStreamAt(direction: StreamDirection, stage: ToxicStage): Promise<void> {
    this.#closeAfterEnd.add(direction);
    await this.#chains[direction].cut(stage);
  }

  #createChain(direction: StreamDirection, source: Socket, destination: Socket): DirectionChain {
    const backpressure = new SourceBackpressure(source);
    const { traffic } = this.#options;
    const sink = new SocketSink(
      destination,
      backpressure,
      (bytes) => traffic.sent(direction, bytes),
      () => {
        if (this.#closeAfterEnd.has(direction)) this.close();
      },
    );
    return new DirectionChain(sink, backpressure);
  }

  #pipe(direction: StreamDirection, source: Socket): void {
    const { clock, traffic } = this.#options;
    const chain = this.#chains[direction];
    source.on('data', (data: Buffer) => {
      traffic.received(direction, data.length);
      if (this.#closing) return;
      // Node reads up to 64 KiB at once, so a read is split into Toxiproxy-sized chunks.
      const receivedAt = clock.monotonic();
      for (let offset = 0; offset < data.length; offset += MAX_CHUNK_BYTES) {
        chain.write({ data: data.subarray(offset, offset + MAX_CHUNK_BYTES), receivedAt });
      }
    });
    source.on('end', () => {
      if (!this.#closing) chain.end();
    });
  }

  #watchClose(): void {
    let open = 2;
    const onClose = (other: Socket) => (hadError: boolean) => {
      if (hadError) this.destroy();
      else if (other.destroyed) this.#stopChains();
      open -= 1;
      if (open === 0) this.#options.onClose();
    };
    this.#client.on('error', () => this.destroy());
    this.#upstream.on('error', () => this.destroy());
    this.#client.on('close', onClose(this.#upstream));
    this.#upstream.on('close', onClose(this.#client));
  }

  #stopChains(): void {
    if (this.#closing) {
      return;
    }
    this.#closing = true;
    this.#chains.upstream.stop();
    this.#chains.downstream.stop();
  }
}
