import { OperationTimeoutError, isOperationTimeoutError } from '../timeout.js';

/** Reasons a gauge source read left its gauges at their last sample. */
export const SOURCE_READ_FAILURES = ['error', 'timeout'] as const;

/** Reason a gauge source read left its gauges at their last sample. */
export type SourceReadFailure = (typeof SOURCE_READ_FAILURES)[number];

/** The result of one source read, which every sample waiting for it gets. */
type ReadOutcome<T> = { ok: true; sample: T } | { ok: false; error: unknown };

/** A source read in flight. */
interface PendingRead<T> {
  /**
   * Receives the outcome once the read ends. A sample removes its waiter when it times out, so
   * a read that never ends keeps only the waiters of samples still waiting.
   */
  readonly waiters: Set<(outcome: ReadOutcome<T>) => void>;
  /** Order in which the reads of one source started, from 1. */
  readonly sequence: number;
  /** Set when the sample that started the read timed out before the read ended. */
  late: boolean;
}

/**
 * Reads sources, such as a queue in Redis, with a time limit per sample, so a scrape returns
 * while the source does not reply. A read counts only for the sample that started it and the
 * samples that joined it. Once the starting sample times out, the read is late, and its result
 * is dropped when it ends, so a later scrape never shows it. At most one read per source is in
 * flight, so a Redis that does not reply collects no queue of reads. A sample that finds a late
 * read in flight waits for it to end and then starts its own read, all within its time limit.
 * NOTE: a read that never ends, such as a Redis command whose reply is lost, blocks its source
 * for good, so every later sample of that source times out.
 */
export class TimeLimitedReader<T> {
  readonly #timeoutMs: number;
  readonly #inFlight = new Map<string, PendingRead<T>>();
  #started = 0;

  /** `timeoutMs` is the time limit of one sample, in ms. */
  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Returns a sample of source `key` from a read that ended within this call's time limit and
   * within that of the call that started it, and its start order as `sequence`.
   * @throws OperationTimeoutError naming `operation` when no such read ends in time, or the
   *   error of the read.
   */
  async read(
    key: string,
    read: () => Promise<T>,
    operation: string,
  ): Promise<{ sample: T; sequence: number }> {
    const deadline = performance.now() + this.#timeoutMs;
    for (;;) {
      const joined = this.#inFlight.get(key);
      // A read started after the time limit would be late at once, and the next sample would
      // wait for it instead of starting its own.
      if (joined === undefined && performance.now() >= deadline) {
        throw new OperationTimeoutError(operation, this.#timeoutMs);
      }
      const pending = joined ?? this.#start(key, read);
      let outcome: ReadOutcome<T>;
      try {
        outcome = await this.#settleBy(pending, deadline, operation);
      } catch (error) {
        // Only the starter marks its read late: a joiner's time limit ends no earlier.
        if (joined === undefined) pending.late = true;
        throw error;
      }
      if (!pending.late) {
        if (outcome.ok) return { sample: outcome.sample, sequence: pending.sequence };
        throw outcome.error;
      }
    }
  }

  #start(key: string, read: () => Promise<T>): PendingRead<T> {
    this.#started += 1;
    const pending: PendingRead<T> = { waiters: new Set(), sequence: this.#started, late: false };
    this.#inFlight.set(key, pending);
    void callRead(read)
      .then(
        (sample): ReadOutcome<T> => ({ ok: true, sample }),
        (error: unknown): ReadOutcome<T> => ({ ok: false, error }),
      )
      .then((outcome) => {
        if (this.#inFlight.get(key) === pending) this.#inFlight.delete(key);
        for (const waiter of pending.waiters) waiter(outcome);
        pending.waiters.clear();
      });
    return pending;
  }

  /** Waits for the outcome of `pending` until `deadline` on the `performance.now()` clock. */
  #settleBy(pending: PendingRead<T>, deadline: number, operation: string): Promise<ReadOutcome<T>> {
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) {
      return Promise.reject(new OperationTimeoutError(operation, this.#timeoutMs));
    }
    return new Promise((resolve, reject) => {
      const waiter = (outcome: ReadOutcome<T>): void => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        pending.waiters.delete(waiter);
        reject(new OperationTimeoutError(operation, this.#timeoutMs));
      }, remainingMs);
      pending.waiters.add(waiter);
    });
  }
}

/** Calls `read`, turning a synchronous throw into a rejection. */
async function callRead<T>(read: () => Promise<T>): Promise<T> {
  return read();
}

/** Options of a {@link SourceReader}. */
export interface SourceReaderOptions<T> {
  /** Sets the gauges of source `key` from a sample. */
  set: (key: string, sample: T) => void;
  /** Maximum wait for one sample, in ms. */
  timeoutMs: number;
  /** Counts a read that failed or timed out. */
  onFailure: (key: string, reason: SourceReadFailure) => void;
  /** Names the read of source `key` in timeout errors, such as `queue tasks gauge read`. */
  operation: (key: string) => string;
}

/**
 * Sets gauges from sources read with a {@link TimeLimitedReader}. A read that fails or times
 * out leaves the gauges at their last sample, which came from a read that ended in time. A
 * sample older than the one the gauges show is never set.
 */
export class SourceReader<T> {
  readonly #options: SourceReaderOptions<T>;
  readonly #reader: TimeLimitedReader<T>;
  /** Sequence of the read whose sample each source's gauges show. */
  readonly #shown = new Map<string, number>();

  constructor(options: SourceReaderOptions<T>) {
    this.#options = options;
    this.#reader = new TimeLimitedReader(options.timeoutMs);
  }

  async readAll(sources: ReadonlyMap<string, () => Promise<T>>): Promise<void> {
    const { set, onFailure, operation } = this.#options;
    await Promise.all(
      [...sources].map(async ([key, read]) => {
        try {
          const { sample, sequence } = await this.#reader.read(key, read, operation(key));
          if (sequence <= (this.#shown.get(key) ?? 0)) return;
          this.#shown.set(key, sequence);
          set(key, sample);
        } catch (error) {
          // The gauges keep their last sample, and the next scrape reads again.
          onFailure(key, isOperationTimeoutError(error) ? 'timeout' : 'error');
        }
      }),
    );
  }
}
