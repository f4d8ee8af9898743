import type { Clock } from '../clock.js';
import type { ProviderErrorClass } from './errors.js';
import type { CallOptions } from './types.js';

type WatchdogReason = Extract<
  ProviderErrorClass,
  'first_token_timeout' | 'deadline_exceeded' | 'stream_stalled' | 'aborted'
>;

/**
 * Enforces one call's time limits on the injected clock. When a limit fires it
 * records why and aborts `signal`, so the transport stops and the client can
 * report the matching error class.
 */
export class CallWatchdog {
  readonly #controller = new AbortController();
  readonly #clock: Clock;
  readonly #options: CallOptions;
  readonly #startedAt: number;
  readonly #timers = new Map<WatchdogReason, NodeJS.Timeout>();
  #reason: WatchdogReason | undefined;
  readonly #onCallerAbort = (): void => this.#fire('aborted');

  constructor(clock: Clock, options: CallOptions) {
    this.#clock = clock;
    this.#options = options;
    this.#startedAt = clock.monotonic();
    this.#arm('deadline_exceeded', options.deadlineMs);
    this.#arm('first_token_timeout', options.firstTokenTimeoutMs);
    if (options.signal?.aborted) {
      this.#fire('aborted');
    }
    options.signal?.addEventListener('abort', this.#onCallerAbort, { once: true });
  }

  /** Aborted when a limit fires or the caller aborts. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The limit that ended the call, if any. */
  get reason(): WatchdogReason | undefined {
    return this.#reason;
  }

  /** Milliseconds since the call started, on the injected clock. */
  elapsedMs(): number {
    return this.#clock.monotonic() - this.#startedAt;
  }

  /** Stops the first-token timer. */
  firstTokenArrived(): void {
    this.#disarm('first_token_timeout');
  }

  /** Restarts the stall timer; call it whenever the client starts waiting for a body chunk. */
  bytesArrived(): void {
    this.#disarm('stream_stalled');
    this.#arm('stream_stalled', this.#options.stallTimeoutMs);
  }

  /** Stops the stall timer while the caller handles a chunk, so only provider silence counts. */
  pauseStallTimer(): void {
    this.#disarm('stream_stalled');
  }

  /** Clears every timer and the caller's abort listener. */
  dispose(): void {
    for (const reason of [...this.#timers.keys()]) {
      this.#disarm(reason);
    }
    this.#options.signal?.removeEventListener('abort', this.#onCallerAbort);
  }

  #arm(reason: WatchdogReason, ms: number | undefined): void {
    if (ms === undefined || this.#reason !== undefined) {
      return;
    }
    this.#timers.set(
      reason,
      this.#clock.setTimeout(() => this.#fire(reason), Math.max(0, ms)),
    );
  }

  #disarm(reason: WatchdogReason): void {
    const timer = this.#timers.get(reason);
    if (timer !== undefined) {
      this.#clock.clearTimeout(timer);
      this.#timers.delete(reason);
    }
  }

  #fire(reason: WatchdogReason): void {
    if (this.#reason !== undefined) {
      return;
    }
    this.#reason = reason;
    this.dispose();
    this.#controller.abort(reason);
  }
}
