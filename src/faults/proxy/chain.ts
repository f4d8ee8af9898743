import type { Socket } from 'node:net';

import type { SourceBackpressure } from './backpressure.js';
import type { Chunk, ChunkSink, ToxicStage } from './stage.js';

/**
 * Writes a direction's chunks to its destination socket. While the socket's write buffer is
 * full, it keeps the source paused until the socket drains.
 */
export class SocketSink implements ChunkSink {
  readonly #destination: Socket;
  readonly #backpressure: SourceBackpressure;
  readonly #onSent: (bytes: number) => void;
  readonly #onEnd: () => void;
  #awaitingDrain = false;

  /**
   * `onSent` gets the size of each chunk handed to the destination socket, and `onEnd` runs
   * after each end of the stream handed to it.
   */
  constructor(
    destination: Socket,
    backpressure: SourceBackpressure,
    onSent: (bytes: number) => void,
    onEnd: () => void = () => undefined,
  ) {
    this.#destination = destination;
    this.#backpressure = backpressure;
    this.#onSent = onSent;
    this.#onEnd = onEnd;
  }

  write(chunk: Chunk): void {
    if (this.#destination.writableEnded || this.#destination.destroyed) {
      return;
    }
    const accepted = this.#destination.write(chunk.data);
    this.#onSent(chunk.data.length);
    if (!accepted && !this.#awaitingDrain) {
      this.#awaitingDrain = true;
      this.#backpressure.hold(this);
      this.#destination.once('drain', () => {
        this.#awaitingDrain = false;
        this.#backpressure.release(this);
      });
    }
  }

  end(): void {
    if (!this.#destination.destroyed) {
      this.#destination.end();
    }
    this.#onEnd();
  }
}

interface NamedStage {
  readonly name: string;
  readonly stage: ToxicStage;
}

/**
 * The toxics of one direction of one connection, in the order they were added, ending in
 * the destination socket. With no toxics, chunks go straight to the socket.
 */
export class DirectionChain implements ChunkSink {
  readonly #sink: ChunkSink;
  readonly #stages: NamedStage[] = [];
  /** Whether {@link cut} ended the stream, after which writes and ends are dropped. */
  #cut = false;
  /** Pauses the direction's source; new stages are built with it. */
  readonly backpressure: SourceBackpressure;

  constructor(sink: ChunkSink, backpressure: SourceBackpressure) {
    this.#sink = sink;
    this.backpressure = backpressure;
  }

  /** The sink the last stage writes to; new stages are built in front of it. */
  get sink(): ChunkSink {
    return this.#sink;
  }

  /** Bytes queued in the direction's toxic stages. */
  get queuedBytes(): number {
    let total = 0;
    for (const { stage } of this.#stages) {
      total += stage.queuedBytes;
    }
    return total;
  }

  write(chunk: Chunk): void {
    if (this.#cut) return;
    (this.#stages[0]?.stage ?? this.#sink).write(chunk);
  }

  end(): void {
    if (this.#cut) return;
    (this.#stages[0]?.stage ?? this.#sink).end();
  }

  /** Appends a stage built to write to the sink. */
  add(name: string, stage: ToxicStage): void {
    this.#stages.push({ name, stage });
    this.#relink();
  }

  find(name: string): ToxicStage | undefined {
    return this.#stages.find((entry) => entry.name === name)?.stage;
  }

  /** Interrupts a stage, unlinks it and passes the data it still held to its successor. */
  async remove(name: string): Promise<void> {
    const stage = this.find(name);
    if (stage === undefined) {
      return;
    }
    await stage.interrupt();
    const index = this.#stages.findIndex((entry) => entry.stage === stage);
    if (index < 0) {
      return;
    }
    this.#stages.splice(index, 1);
    this.#relink();
    stage.flush(this.#stages[index]?.stage ?? this.#sink);
  }

  /**
   * Removes a stage and ends the stream in its place. The stages after it get the end behind
   * the data they hold, so a slow_close among them still delays it. The stage and those
   * before it are stopped, and their data and every later write are dropped. Does nothing
   * when the stage is no longer in the chain.
   */
  async cut(stage: ToxicStage): Promise<void> {
    await stage.interrupt();
    const index = this.#stages.findIndex((entry) => entry.stage === stage);
    if (index < 0) {
      return;
    }
    this.#cut = true;
    for (const removed of this.#stages.splice(0, index + 1)) {
      removed.stage.stop();
    }
    (this.#stages[0]?.stage ?? this.#sink).end();
  }

  /** Stops every stage and drops the data they held. */
  stop(): void {
    for (const { stage } of this.#stages) {
      stage.stop();
    }
  }

  #relink(): void {
    this.#stages.forEach(({ stage }, index) => {
      stage.next = this.#stages[index + 1]?.stage ?? this.#sink;
    });
  }
}
