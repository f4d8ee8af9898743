import { MAX_TIMER_MS } from '../../faults/limits.js';
import type { Clock } from '../clock.js';
import type { ProviderErrorClass } from './errors.js';
import type { CallOptions } from './types.js';

type WatchdogReason = Extract<
  ProviderErrorClass,
  'first_token_timeout' | 'deadline_exceeded' | 'stream_stalled' | 'aborted'
>;

/**
 * Enforces one call's time limits on the injected clock. When a limit fires it
 * records why and calls the `onFire` listener, so the transport stops and the
 * client can report the matching error class.
 *
 * The stall limit uses one timer that is not re-armed per chunk. The watchdog
 * notes when waiting for bytes began; a timer that fires early re-arms for the
 * time left. A stall still fires `stallTimeoutMs` after the wait began.
 */
export class CallWatchdog {
  #onFire: ((reason: WatchdogReason) => void) | undefined;
  readonly #clock: Clock;
  readonly #options: CallOptions;
  readonly #startedAt: number;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #firstTokenTimer: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  /** When the client began waiting for bytes; undefined while the caller handles a chunk. */
  #waitingSince: number | undefined;
  #reason: WatchdogReason | undefined;
  readonly #onCallerAbort = (): void => this.#fire('aborted');
  readonly #onStallTimer = (): void => this.#checkStall();

  constructor(clock: Clock, options: CallOptions) {
    this.#clock = clock;
    this.#options = options;
    this.#startedAt = clock.monotonic();
    this.#deadlineTimer = this.#arm('deadline_exceeded', options.deadlineMs);
    this.#firstTokenTimer = this.#arm('first_token_timeout', options.firstTokenTimeoutMs);
    if (options.signal?.aborted) {
      this.#fire('aborted');
    }
    options.signal?.addEventListener('abort', this.#onCallerAbort, { once: true });
  }

  /** Sets the function called when a limit fires or the caller aborts, at once if that already happened. */
  onFire(listener: (reason: WatchdogReason) => void): void {
    this.#onFire = listener;
    if (this.#reason !== undefined) listener(this.#reason);
  }

  /** The limit that ended the call, if any. */
  get reason(): WatchdogReason | undefined {
    return this.#reason;
  }

  /** The value in ms of the timeout that ended the call; undefined for the deadline, an abort or none. */
  get limitMs(): number | undefined {
    switch (this.#reason) {
      case 'first_token_timeout':
        return this.#options.firstTokenTimeoutMs;
      case 'stream_stalled':
        return this.#options.stallTimeoutMs;
      default:
        return undefined;
    }
  }

  /** Milliseconds since the call started, on the injected clock. */
  elapsedMs(): number {
    return this.#clock.monotonic() - this.#startedAt;
  }

  /** Stops the first-token timer. */
  firstTokenArrived(): void {
    this.#firstTokenTimer = this.#clear(this.#firstTokenTimer);
  }

  /** Restarts the stall wait; call it whenever the client starts waiting for a body chunk. */
  bytesArrived(): void {
    const stallMs = this.#options.stallTimeoutMs;
    if (stallMs === undefined || this.#reason !== undefined) {
      return;
    }
    this.#waitingSince = this.#clock.monotonic();
    this.#stallTimer ??= this.#clock.setTimeout(this.#onStallTimer, timerDelay(stallMs));
  }

  /** Stops counting the stall wait while the caller handles a chunk, so only provider silence counts. */
  pauseStallTimer(): void {
    this.#waitingSince = undefined;
  }

  /** Clears every timer and the caller's abort listener. */
  dispose(): void {
    this.#deadlineTimer = this.#clear(this.#deadlineTimer);
    this.#firstTokenTimer = this.#clear(this.#firstTokenTimer);
    this.#stallTimer = this.#clear(this.#stallTimer);
    this.#options.signal?.removeEventListener('abort', this.#onCallerAbort);
  }

  /** Fires the stall limit when the current wait reached it, else re-arms for the time left. */
  #checkStall(): void {
    this.#stallTimer = undefined;
    const stallMs = Math.max(0, this.#options.stallTimeoutMs ?? 0);
    const since = this.#waitingSince;
    const waitedMs = since === undefined ? 0 : this.#clock.monotonic() - since;
    if (since !== undefined && waitedMs >= stallMs) {
      this.#fire('stream_stalled');
      return;
    }
    this.#stallTimer = this.#clock.setTimeout(this.#onStallTimer, timerDelay(stallMs - waitedMs));
  }

  #arm(reason: WatchdogReason, ms: number | undefined): NodeJS.Timeout | undefined {
    if (ms === undefined || this.#reason !== undefined) {
      return undefined;
    }
    return this.#clock.setTimeout(() => this.#fire(reason), timerDelay(ms));
  }

  #clear(timer: NodeJS.Timeout | undefined): undefined {
    if (timer !== undefined) {
      this.#clock.clearTimeout(timer);
    }
    return undefined;
  }

  #fire(reason: WatchdogReason): void {
    if (this.#reason !== undefined) {
      return;
    }
    this.#reason = reason;
    this.dispose();
    this.#onFire?.(reason);
  }
}

/**
 * Clamps a limit to what a Node timer can wait. Node runs a longer delay after 1 ms,
 * so an uncapped limit would end every call at once.
 * NOTE: a limit above MAX_TIMER_MS (about 24.8 days) fires at that maximum, early.
 * Route policies reject such limits.
 */
function timerDelay(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_MS);
}
