import type { Clock } from '../../platform/clock.js';
import { sleepInSteps } from '../limits.js';
import type { SourceBackpressure } from './backpressure.js';

/**
 * Bytes a toxic stage queues before it pauses the direction's source socket, unless the stage
 * is bounded by a chunk count instead. The source resumes once the stage has drained to half
 * of its bound. So the sender's writes block in TCP while a slow toxic (bandwidth, latency)
 * works through its queue, and the proxy's memory stays bounded.
 */
export const STAGE_BUFFER_BYTES = 1024 * 1024;

/**
 * Maximum bytes of one chunk. Toxiproxy 2.x reads each socket with `io.Copy`, whose 32 KiB
 * buffer makes each chunk at most this size, and a chunk-bounded queue counts such chunks.
 */
export const MAX_CHUNK_BYTES = 32 * 1024;

/** Bytes read from one socket, stamped with the monotonic time they arrived. */
export interface Chunk {
  readonly data: Buffer;
  readonly receivedAt: number;
}

/** Receiver of a stream's chunks and its end: the next stage, or the writing socket. */
export interface ChunkSink {
  write(chunk: Chunk): void;
  end(): void;
}

/** Actions a toxic may take on the whole connection. */
export interface ConnectionControl {
  /** Closes both sockets with FIN. */
  close(): void;
  /** Closes both sockets with RST. */
  reset(): void;
}

/** Marks the end of a stream (the reading socket sent FIN). */
export const END = Symbol('end');
/** Returned by {@link ToxicRun.next} when the run was interrupted. */
export const INTERRUPTED = Symbol('interrupted');

export type StreamItem = Chunk | typeof END;

/** The view of its stage that a toxic behaviour gets while it runs. */
export interface ToxicRun {
  readonly clock: Clock;
  readonly random: () => number;
  /** Per-connection state kept across runs, such as byte counters. */
  readonly state: Map<string, number>;
  readonly connection: ConnectionControl;
  /** Resolves with the next item, or INTERRUPTED once the run is interrupted. */
  next(): Promise<StreamItem | typeof INTERRUPTED>;
  /** Resolves true after `ms`, or false as soon as the run is interrupted. */
  sleep(ms: number): Promise<boolean>;
  forward(chunk: Chunk): void;
  forwardEnd(): void;
  /**
   * Ends the stream in this toxic's place, as removing a timeout toxic does, and interrupts
   * the run. The toxics after it get the end behind the data they hold, and the connection
   * closes once that end reaches the destination socket. Does nothing once the run was
   * interrupted.
   */
  endStream(): void;
}

/**
 * A toxic's per-connection logic. It returns when interrupted or after it forwarded the
 * end; an item it holds when interrupted must be forwarded before it returns.
 */
export type ToxicBehaviour = (
  attributes: Readonly<Record<string, number>>,
  run: ToxicRun,
) => Promise<void>;

/**
 * Options of one stage. `clock`, `random` and `connection` are shared by every stage of the
 * connection, and the others by the stages of one direction.
 */
export interface StageOptions {
  readonly clock: Clock;
  readonly random: () => number;
  readonly connection: ConnectionControl;
  /** Pauses the direction's source socket while this stage's queue is full. */
  readonly backpressure: SourceBackpressure;
  /** Ends the direction's stream in place of `stage`, for {@link ToxicRun.endStream}. */
  readonly endStream: (stage: ToxicStage) => void;
  /**
   * Chunks the stage queues before it pauses the source, in place of the
   * {@link STAGE_BUFFER_BYTES} bound, as a Toxiproxy 2.x toxic with a buffer size does.
   */
  readonly maxQueuedChunks?: number;
}

/**
 * One toxic on one direction of one connection: a queue of items and a behaviour that
 * consumes it. Updating or removing the toxic interrupts the running behaviour.
 */
export class ToxicStage implements ChunkSink {
  next: ChunkSink;
  #behaviour: ToxicBehaviour;
  readonly #options: StageOptions;
  readonly #state = new Map<string, number>();
  readonly #queue: StreamItem[] = [];
  #queuedBytes = 0;
  #queuedChunks = 0;
  #holdingSource = false;
  #waiter: ((item: StreamItem | typeof INTERRUPTED) => void) | undefined;
  #controller = new AbortController();
  #running: Promise<void> = Promise.resolve();
  #dropped = false;

  constructor(
    behaviour: ToxicBehaviour,
    attributes: Readonly<Record<string, number>>,
    next: ChunkSink,
    options: StageOptions,
  ) {
    this.#behaviour = behaviour;
    this.#options = options;
    this.next = next;
    this.#start(attributes);
  }

  write(chunk: Chunk): void {
    this.#push(chunk);
  }

  end(): void {
    this.#push(END);
  }

  /**
   * Interrupts the running behaviour and starts `behaviour` with new attributes; the
   * per-connection state, such as byte counters, carries over. A stage stopped meanwhile, as
   * by a timeout toxic's idle deadline during an update, starts nothing.
   */
  async restart(
    attributes: Readonly<Record<string, number>>,
    behaviour: ToxicBehaviour = this.#behaviour,
  ): Promise<void> {
    await this.#interrupt();
    if (this.#dropped) {
      return;
    }
    this.#behaviour = behaviour;
    this.#start(attributes);
  }

  /** The behaviour running on this connection: the toxic's own, or a pass-through. */
  get behaviour(): ToxicBehaviour {
    return this.#behaviour;
  }

  /** Interrupts the behaviour; the caller then relinks and calls {@link flush}. */
  async interrupt(): Promise<void> {
    await this.#interrupt();
  }

  /** Bytes of the chunks queued for the behaviour, not counting a chunk it is working on. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Passes every queued item, in order, to `sink`. */
  flush(sink: ChunkSink): void {
    const items = this.#queue.splice(0);
    this.#queuedBytes = 0;
    this.#queuedChunks = 0;
    for (const item of items) {
      if (item === END) {
        sink.end();
      } else {
        sink.write(item);
      }
    }
    this.#updateBackpressure();
  }

  /** Stops the stage for good and drops queued data, as when the connection closes. */
  stop(): void {
    this.#dropped = true;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#queuedChunks = 0;
    this.#updateBackpressure();
    this.#controller.abort();
    this.#wake(INTERRUPTED);
  }

  #push(item: StreamItem): void {
    if (this.#waiter !== undefined && !this.#controller.signal.aborted) {
      this.#wake(item);
      return;
    }
    this.#queue.push(item);
    if (item !== END) {
      this.#queuedBytes += item.data.length;
      this.#queuedChunks += 1;
      this.#updateBackpressure();
    }
  }

  /** Pauses the source above the queue's bound and resumes it at half of that. */
  #updateBackpressure(): void {
    const { backpressure, maxQueuedChunks } = this.#options;
    const [queued, bound] =
      maxQueuedChunks === undefined
        ? [this.#queuedBytes, STAGE_BUFFER_BYTES]
        : [this.#queuedChunks, maxQueuedChunks];
    if (!this.#holdingSource && queued > bound) {
      this.#holdingSource = true;
      backpressure.hold(this);
    } else if (this.#holdingSource && queued <= bound / 2) {
      this.#holdingSource = false;
      backpressure.release(this);
    }
  }

  #wake(item: StreamItem | typeof INTERRUPTED): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(item);
  }

  async #interrupt(): Promise<void> {
    this.#controller.abort();
    this.#wake(INTERRUPTED);
    await this.#running;
  }

  #start(attributes: Readonly<Record<string, number>>): void {
    this.#controller = new AbortController();
    const run = this.#createRun(this.#controller.signal);
    this.#running = this.#behaviour(attributes, run).catch(() => {
      this.#options.connection.close();
    });
  }

  #createRun(signal: AbortSignal): ToxicRun {
    const { clock, random, connection } = this.#options;
    return {
      clock,
      random,
      connection,
      state: this.#state,
      next: () => this.#take(signal),
      sleep: (ms) => sleepUnlessAborted(clock, ms, signal),
      forward: (chunk) => {
        if (!this.#dropped) this.next.write(chunk);
      },
      forwardEnd: () => {
        if (!this.#dropped) this.next.end();
      },
      endStream: () => {
        if (!signal.aborted && !this.#dropped) this.#options.endStream(this);
      },
    };
  }

  #take(signal: AbortSignal): Promise<StreamItem | typeof INTERRUPTED> {
    if (signal.aborted) {
      return Promise.resolve(INTERRUPTED);
    }
    const item = this.#queue.shift();
    if (item !== undefined) {
      if (item !== END) {
        this.#queuedBytes -= item.data.length;
        this.#queuedChunks -= 1;
        this.#updateBackpressure();
      }
      return Promise.resolve(item);
    }
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }
}

async function sleepUnlessAborted(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) {
    return false;
  }
  // Node runs a 0 ms timer after at least 1 ms, which would hold a latency toxic to about
  // 1000 chunks per second even when every chunk is already due.
  if (ms <= 0) {
    return true;
  }
  try {
    await sleepInSteps((step) => clock.sleep(step, signal), ms);
    return true;
  } catch {
    return false;
  }
}
