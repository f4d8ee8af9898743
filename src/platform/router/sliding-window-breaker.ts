import { CircuitState, type IBreaker } from 'cockatiel';
import type { Clock } from '../clock.js';
import { SlidingWindowCounter } from './sliding-window.js';

/** Trip rule of a {@link SlidingWindowBreaker}. */
export interface SlidingWindowBreakerOptions {
  failureThreshold: number;
  minimumRequests: number;
  windowMs: number;
  clock: Clock;
}

/**
 * A cockatiel `IBreaker`: opens when at least `failureThreshold` of at least
 * `minimumRequests` calls in the last `windowMs` failed. Any failure while
 * half-open reopens; a half-open success clears the window.
 */
export class SlidingWindowBreaker implements IBreaker {
  readonly #options: SlidingWindowBreakerOptions;
  readonly #window: SlidingWindowCounter;

  constructor(options: SlidingWindowBreakerOptions) {
    this.#options = options;
    this.#window = new SlidingWindowCounter(options.windowMs);
  }

  get state(): unknown {
    return this.#window.totals(this.#options.clock.monotonic());
  }

  set state(_value: unknown) {
    this.#window.reset();
  }

  success(state: CircuitState): void {
    if (state === CircuitState.HalfOpen) {
      this.#window.reset();
      return;
    }
    this.#window.record(this.#options.clock.monotonic(), 'success');
  }

  failure(state: CircuitState): boolean {
    if (state === CircuitState.HalfOpen) {
      return true;
    }
    const now = this.#options.clock.monotonic();
    this.#window.record(now, 'failure');
    const totals = this.#window.totals(now);
    return (
      totals.total >= this.#options.minimumRequests &&
      totals.failures >= this.#options.failureThreshold
    );
  }
}
