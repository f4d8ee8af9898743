/**
 * Order of waiting jobs in the in-memory driver: jobs without a priority in
 * FIFO order first, then prioritized jobs by priority (lower first) and FIFO
 * within a priority. This is BullMQ's order.
 */
export interface Queued {
  /** Insertion sequence number, unique and increasing. */
  seq: number;
  priority?: number;
  /** Milliseconds since the Unix epoch when the job was accepted. */
  enqueuedAt: number;
  /**
   * Milliseconds since the Unix epoch when the job last entered the waiting line: its
   * enqueue, or its return after a deferral, a retry backoff or a stall.
   */
  readyAt: number;
}

export class WaitingLine<J extends Queued> {
  #plain: J[] = [];
  #head = 0;
  #prioritized: J[] = [];

  get size(): number {
    return this.#plain.length - this.#head + this.#prioritized.length;
  }

  push(job: J): void {
    if (job.priority === undefined) {
      this.#plain.push(job);
      return;
    }
    this.#prioritized.splice(this.#insertionIndex(job), 0, job);
  }

  shift(): J | undefined {
    if (this.#head < this.#plain.length) {
      const job = this.#plain[this.#head];
      this.#head += 1;
      this.#compact();
      return job;
    }
    return this.#prioritized.shift();
  }

  /**
   * Returns the maximum time at `now` that a waiting job has waited since it last entered the
   * line, 0 when none waits. A deferred job could not run while it was away, so that time does
   * not count.
   */
  oldestAgeMs(now: number): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const job of this) {
      oldest = Math.min(oldest, job.readyAt);
    }
    return oldest === Number.POSITIVE_INFINITY ? 0 : Math.max(0, now - oldest);
  }

  *[Symbol.iterator](): IterableIterator<J> {
    yield* this.#plain.slice(this.#head);
    yield* this.#prioritized;
  }

  /** Binary search for the first prioritized job that sorts after `job`. */
  #insertionIndex(job: J): number {
    let low = 0;
    let high = this.#prioritized.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const other = this.#prioritized[middle];
      if (other !== undefined && sortsBefore(other, job)) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#plain.length) {
      this.#plain = this.#plain.slice(this.#head);
      this.#head = 0;
    }
  }
}

function sortsBefore(a: Queued, b: Queued): boolean {
  const pa = a.priority ?? 0;
  const pb = b.priority ?? 0;
  return pa < pb || (pa === pb && a.seq < b.seq);
}
