import { OperationTimeoutError, isOperationTimeoutError } from '../timeout.js';

/** Reasons a gauge source read left its gauges at their last sample. */
export const SOURCE_READ_FAILURES = ['error', 'timeout'] as const;

/** Reason a gauge source read left its gauges at their last sample. */
export type SourceReadFailure = (typeof SOURCE_READ_FAILURES)[number];

/** The result of one source read, which every sample waiting for it gets. */
type ReadOutcome<T> = { ok: true; sample: T } | { ok: false; error: unknown };

/**
 * Age of a read still in flight, in multiples of the time limit of one sample, at which the
 * next sample abandons it and starts a new read. A source that replies within this many time
 * limits is read once at a time. A read that never ends blocks its source only this long,
 * unless the source has {@link MAX_ABANDONED_READS} abandoned reads that have not ended.
 */
export const ABANDON_AFTER_TIMEOUTS = 3;

/**
 * Maximum count of abandoned reads of one source that have not ended. With the read in flight,
 * at most `MAX_ABANDONED_READS + 1` reads of a source are pending at once.
 */
export const MAX_ABANDONED_READS = 2;

/** A source read in flight. */
interface PendingRead<T> {
  /**
   * Receives the outcome once the read ends. A sample removes its waiter when it stops waiting,
   * so a read that never ends keeps only the waiters of samples still waiting.
   */
  readonly waiters: Set<(outcome: ReadOutcome<T>) => void>;
  /** Order in which the reads of one source started, from 1. */
  readonly sequence: number;
  /** Time on the `performance.now()` clock from which a sample may abandon the read. */
  readonly abandonAt: number;
  /** Set when the sample that started the read timed out, or a sample abandoned it. */
  late: boolean;
  /** Set when a sample abandoned the read, which then counts against its source's limit. */
  abandoned: boolean;
}

/**
 * Reads sources, such as a queue in Redis, with a time limit per sample, so a scrape returns
 * while the source does not reply. A read counts only for the sample that started it and the
 * samples that joined it. Once the starting sample times out, the read is late, and its result
 * is dropped when it ends, so a later scrape never shows it. One read per source is in flight:
 * a sample that finds a late read in flight waits for it to end and then starts its own read,
 * all within its time limit.
 *
 * A read still in flight {@link ABANDON_AFTER_TIMEOUTS} time limits after it started is
 * abandoned by the next sample, which starts a new read, so a read that never ends does not
 * block its source. An abandoned read is late, so its result is dropped too. A source keeps at
 * most {@link MAX_ABANDONED_READS} abandoned reads that have not ended, so a Redis that does not
 * reply collects at most that many reads beside the one in flight.
 * NOTE: a source whose reads never end, such as a Redis command whose reply is lost for good,
 * still blocks once it has that many abandoned reads, so every later sample of it times out.
 */
export class TimeLimitedReader<T> {
  readonly #timeoutMs: number;
  readonly #inFlight = new Map<string, PendingRead<T>>();
  /** Count of abandoned reads per source that have not ended, for sources with at least one. */
  readonly #abandoned = new Map<string, number>();
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
      const now = performance.now();
      let joined = this.#inFlight.get(key);
      if (joined !== undefined && now >= joined.abandonAt && this.#abandon(key, joined)) {
        joined = undefined;
      }
      // A read started after the time limit would be late at once, and the next sample would
      // wait for it instead of starting its own.
      if (joined === undefined && now >= deadline) {
        throw new OperationTimeoutError(operation, this.#timeoutMs);
      }
      const pending = joined ?? this.#start(key, read, now);
      // A sample that joined an old read wakes when it may abandon that read. A read already
      // past that time has its source at the limit of abandoned reads, so the sample waits for
      // it until its own deadline.
      const wakeAt = pending.abandonAt > now ? Math.min(deadline, pending.abandonAt) : deadline;
      const outcome = await this.#settleBy(pending, wakeAt);
      if (outcome === undefined) {
        if (wakeAt < deadline) continue;
        // Only the starter marks its read late: a joiner's time limit ends no earlier.
        if (joined === undefined) pending.late = true;
        throw new OperationTimeoutError(operation, this.#timeoutMs);
      }
      if (!pending.late) {
        if (outcome.ok) return { sample: outcome.sample, sequence: pending.sequence };
        throw outcome.error;
      }
    }
  }

  #start(key: string, read: () => Promise<T>, now: number): PendingRead<T> {
    this.#started += 1;
    const pending: PendingRead<T> = {
      waiters: new Set(),
      sequence: this.#started,
      abandonAt: now + ABANDON_AFTER_TIMEOUTS * this.#timeoutMs,
      late: false,
      abandoned: false,
    };
    this.#inFlight.set(key, pending);
    void callRead(read)
      .then(
        (sample): ReadOutcome<T> => ({ ok: true, sample }),
        (error: unknown): ReadOutcome<T> => ({ ok: false, error }),
      )
      .then((outcome) => {
        if (pending.abandoned) this.#countAbandoned(key, -1);
        else this.#inFlight.delete(key);
        for (const waiter of pending.waiters) waiter(outcome);
        pending.waiters.clear();
      });
    return pending;
  }

  /**
   * Abandons `pending`, the read of `key` in flight, so the next read of `key` starts anew.
   * Returns false, and keeps the read in flight, when `key` has its maximum of abandoned reads.
   */
  #abandon(key: string, pending: PendingRead<T>): boolean {
    if ((this.#abandoned.get(key) ?? 0) >= MAX_ABANDONED_READS) return false;
    this.#inFlight.delete(key);
    pending.late = true;
    pending.abandoned = true;
    this.#countAbandoned(key, 1);
    return true;
  }

  #countAbandoned(key: string, change: 1 | -1): void {
    const count = (this.#abandoned.get(key) ?? 0) + change;
    if (count > 0) this.#abandoned.set(key, count);
    else this.#abandoned.delete(key);
  }

  /**
   * Waits for the outcome of `pending` until `wakeAt` on the `performance.now()` clock, and
   * returns undefined when the read has not ended by then.
   */
  #settleBy(pending: PendingRead<T>, wakeAt: number): Promise<ReadOutcome<T> | undefined> {
    const remainingMs = wakeAt - performance.now();
    if (remainingMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = (outcome: ReadOutcome<T>): void => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        pending.waiters.delete(waiter);
        resolve(undefined);
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
