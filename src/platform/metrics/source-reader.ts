import { isOperationTimeoutError, withTimeout } from '../timeout.js';

/** Reasons a gauge source read left its gauges at their last sample. */
export const SOURCE_READ_FAILURES = ['error', 'timeout'] as const;

/** Reason a gauge source read left its gauges at their last sample. */
export type SourceReadFailure = (typeof SOURCE_READ_FAILURES)[number];

/** Options of a {@link SourceReader}. */
export interface SourceReaderOptions<T> {
  /** Sets the gauges of source `key` from a sample. */
  set: (key: string, sample: T) => void;
  /** Maximum wait for one read, in ms. */
  timeoutMs: number;
  /** Counts a read that failed or timed out. */
  onFailure: (key: string, reason: SourceReadFailure) => void;
  /** Names the read of source `key` in timeout errors, such as `queue tasks gauge read`. */
  operation: (key: string) => string;
}

/**
 * Reads gauge sources, such as a queue in Redis, with a bounded wait, so a scrape returns
 * while the source does not reply. At most one read per source is in flight: a timed-out
 * read that ends later still sets the gauges, and later samples wait for it instead of
 * starting another.
 */
export class SourceReader<T> {
  readonly #options: SourceReaderOptions<T>;
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(options: SourceReaderOptions<T>) {
    this.#options = options;
  }

  async readAll(sources: ReadonlyMap<string, () => Promise<T>>): Promise<void> {
    const { timeoutMs, onFailure, operation } = this.#options;
    await Promise.all(
      [...sources].map(async ([key, read]) => {
        try {
          await withTimeout(this.#readOnce(key, read), timeoutMs, operation(key));
        } catch (error) {
          // The gauges keep their last sample, and the next scrape reads again.
          onFailure(key, isOperationTimeoutError(error) ? 'timeout' : 'error');
        }
      }),
    );
  }

  /** Starts a read of `key` unless one is still in flight, and sets the gauges when it ends. */
  #readOnce(key: string, read: () => Promise<T>): Promise<void> {
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running;
    const started = read()
      .then((sample) => this.#options.set(key, sample))
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return started;
  }
}
