import { CircuitState, type IBreaker } from 'cockatiel';
import { MAX_TIMER_MS } from '../../faults/limits.js';
import type { Clock } from '../clock.js';
import type { ProviderError } from '../providers/errors.js';
import {
  type BreakerState,
  type BreakerTransition,
  NEUTRAL_ERROR_CLASSES,
} from './breaker-state.js';
import type { BreakerPolicy } from './policy-types.js';
import { SlidingWindowBreaker } from './sliding-window-breaker.js';

/** Construction options of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  provider: string;
  model: string;
  policy: BreakerPolicy;
  clock: Clock;
  onTransition: (transition: BreakerTransition) => void;
  /** Decides when to trip. @defaultValue a {@link SlidingWindowBreaker} from `policy` */
  strategy?: IBreaker;
}

/**
 * A reserved call. `generation` is the number of times the circuit had opened when
 * the call was reserved. The outcome of a call reserved before the latest open
 * cannot close the circuit, reopen it or free a probe slot.
 */
export interface BreakerPermit {
  readonly generation: number;
  /** Whether the call is a half-open probe. */
  readonly probe: boolean;
}

/**
 * One provider/model circuit whose trip rule is a cockatiel `IBreaker`. The states
 * live here because cockatiel 3.2's policy reads `Date.now()`, allows one probe
 * only and cannot stay open until a `Retry-After`.
 */
export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions;
  readonly #strategy: IBreaker;
  #state: BreakerState = { kind: 'closed' };
  /** Times the circuit has opened; see {@link BreakerPermit}. */
  #generation = 0;

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
    this.#strategy =
      options.strategy ?? new SlidingWindowBreaker({ ...options.policy, clock: options.clock });
  }

  /** The current state, after moving from open to half-open when the cooldown has passed. */
  get state(): BreakerState {
    this.#refresh();
    return this.#state;
  }

  /** Returns the monotonic time calls are allowed again, or undefined when they are allowed now. */
  blockedUntil(): number | undefined {
    const state = this.state;
    if (state.kind === 'open') {
      return state.reopensAt;
    }
    if (
      state.kind === 'half_open' &&
      state.probesInFlight >= this.#options.policy.halfOpenMaxProbes
    ) {
      return this.#options.clock.monotonic();
    }
    return undefined;
  }

  /** Reserves a call; returns undefined while open or when every half-open probe slot is taken. */
  tryAcquire(): BreakerPermit | undefined {
    const state = this.state;
    if (state.kind === 'closed') {
      return { generation: this.#generation, probe: false };
    }
    if (
      state.kind === 'half_open' &&
      state.probesInFlight < this.#options.policy.halfOpenMaxProbes
    ) {
      this.#state = { kind: 'half_open', probesInFlight: state.probesInFlight + 1 };
      return { generation: this.#generation, probe: true };
    }
    return undefined;
  }

  /** Records a successful call; a half-open probe success closes the circuit. */
  onSuccess(permit: BreakerPermit): void {
    if (this.#isStale(permit)) {
      return;
    }
    const kind = this.state.kind;
    this.#strategy.success(kind === 'half_open' ? CircuitState.HalfOpen : CircuitState.Closed);
    if (kind === 'half_open') {
      this.#transition({ kind: 'closed' });
    }
  }

  /**
   * Records a failed call. A call that does not count against the provider, by default
   * one whose error class is neutral, only releases its probe slot.
   */
  onFailure(
    error: ProviderError,
    permit: BreakerPermit,
    counts = !NEUTRAL_ERROR_CLASSES.has(error.errorClass),
  ): void {
    if (!counts) {
      this.release(permit);
      return;
    }
    if (this.#isStale(permit)) {
      return;
    }
    const state = this.state;
    if (state.kind === 'open') {
      return;
    }
    const circuit = state.kind === 'half_open' ? CircuitState.HalfOpen : CircuitState.Closed;
    if (this.#strategy.failure(circuit)) {
      this.#open(error);
    }
  }

  /** Whether `permit` was reserved before the latest open, so its outcome is ignored. */
  #isStale(permit: BreakerPermit): boolean {
    return permit.generation !== this.#generation;
  }

  #open(error: ProviderError): void {
    const now = this.#options.clock.monotonic();
    const waitMs = Math.max(this.#options.policy.cooldownMs, error.retryAfterMs ?? 0);
    this.#generation += 1;
    const open: BreakerState = {
      kind: 'open',
      openedAt: now,
      reopensAt: now + waitMs,
      errorClass: error.errorClass,
    };
    this.#transition(open);
    this.#armReopen(open);
  }

  /**
   * Moves to half-open when the wait of `open` ends even if no call reads the state,
   * so the breaker's gauge and events show it without traffic. A timer can fire a
   * fraction of a millisecond before the monotonic clock reaches `reopensAt`, and
   * one wait is capped at the timer maximum, so the timer re-arms until the wait is
   * over. It stops once the breaker left that state, and keeps no process alive.
   */
  #armReopen(open: Extract<BreakerState, { kind: 'open' }>): void {
    const { clock } = this.#options;
    const remainingMs = Math.ceil(open.reopensAt - clock.monotonic());
    const timer = clock.setTimeout(
      () => {
        if (this.#state !== open) return;
        if (clock.monotonic() >= open.reopensAt) this.#refresh();
        else this.#armReopen(open);
      },
      Math.min(Math.max(remainingMs, 1), MAX_TIMER_MS),
    );
    timer.unref?.();
  }

  /** Frees a reserved call that ended without an outcome that reflects the provider's health. */
  release(permit: BreakerPermit): void {
    if (!permit.probe || this.#isStale(permit)) {
      return;
    }
    if (this.#state.kind === 'half_open' && this.#state.probesInFlight > 0) {
      this.#state = { kind: 'half_open', probesInFlight: this.#state.probesInFlight - 1 };
    }
  }

  #refresh(): void {
    if (this.#state.kind === 'open' && this.#options.clock.monotonic() >= this.#state.reopensAt) {
      this.#transition({ kind: 'half_open', probesInFlight: 0 });
    }
  }

  #transition(to: BreakerState): void {
    const from = this.#state.kind;
    this.#state = to;
    const { provider, model } = this.#options;
    this.#options.onTransition({ provider, model, from, to });
  }
}
