/** The part of a readable socket that backpressure controls. */
export interface PausableSource {
  pause(): unknown;
  resume(): unknown;
}

/**
 * Pauses one direction's source socket while any holder needs it paused: a toxic stage with a
 * full buffer, or a destination socket with a full write buffer. A paused socket stops reading,
 * so the kernel's receive buffer fills and TCP flow control blocks the peer's writes.
 */
export class SourceBackpressure {
  readonly #source: PausableSource;
  readonly #holders = new Set<object>();

  constructor(source: PausableSource) {
    this.#source = source;
  }

  /** Whether some holder keeps the source paused. */
  get paused(): boolean {
    return this.#holders.size > 0;
  }

  /** Pauses the source on behalf of `holder`. A second hold by the same holder changes nothing. */
  hold(holder: object): void {
    if (this.#holders.has(holder)) {
      return;
    }
    this.#holders.add(holder);
    if (this.#holders.size === 1) {
      this.#source.pause();
    }
  }

  /** Drops `holder`'s pause and resumes the source once no holder is left. */
  release(holder: object): void {
    if (this.#holders.delete(holder) && this.#holders.size === 0) {
      this.#source.resume();
    }
  }
}
