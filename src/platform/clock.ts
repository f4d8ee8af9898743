/**
 * Time source for every duration in scalegate. Production code takes a Clock
 * so that tests can use fake timers and drills can run time-compressed.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, as `Date.now()` reports them. */
  now(): number;
  /** Monotonic milliseconds for measuring intervals, as `performance.now()`. */
  monotonic(): number;
  /** Resolves after `ms` milliseconds, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  setTimeout(callback: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(handle: NodeJS.Timeout): void;
}

/** The wall clock; its sleep and timers go through the global functions, which fake timers replace. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) => sleepWith(globalThis.setTimeout, globalThis.clearTimeout, ms, signal),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle),
};

function sleepWith(
  set: typeof globalThis.setTimeout,
  clear: typeof globalThis.clearTimeout,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clear(timer);
      reject(signal?.reason);
    };
    const timer = set(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A {@link scaledClock}, with the settings that rebuild it in another process. */
export interface ScaledClock extends Clock {
  /** Simulated milliseconds per millisecond of the base clock. */
  readonly scale: number;
  /** Time on the base clock, in ms since the Unix epoch, at which `now()` equals the base's. */
  readonly originMs: number;
}

/**
 * A clock whose durations shrink by `scale`: with scale 10, a 60 s fault window
 * lasts 6 s of wall time, while `now()` reports the simulated time. `now()` equals the
 * base clock's at `originMs`, so processes that build a clock of the same scale and
 * origin over the system clock report the same `now()`. `monotonic()` starts at the
 * base's monotonic time and is comparable within one process only.
 * @param originMs @defaultValue base.now(), the clock's creation
 */
export function scaledClock(
  scale: number,
  base: Clock = systemClock,
  originMs: number = base.now(),
): ScaledClock {
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new RangeError(`time scale must be a positive number, got ${String(scale)}`);
  }
  if (!Number.isFinite(originMs)) {
    throw new RangeError(`clock origin must be a finite time in ms, got ${String(originMs)}`);
  }
  const monoStart = base.monotonic();
  return {
    scale,
    originMs,
    now: () => originMs + (base.now() - originMs) * scale,
    monotonic: () => monoStart + (base.monotonic() - monoStart) * scale,
    sleep: (ms, signal) => base.sleep(ms / scale, signal),
    setTimeout: (callback, ms) => base.setTimeout(callback, ms / scale),
    clearTimeout: (handle) => base.clearTimeout(handle),
  };
}

/** True for a clock that {@link scaledClock} built. */
export function isScaledClock(clock: Clock): clock is ScaledClock {
  const { scale, originMs } = clock as Partial<ScaledClock>;
  return typeof scale === 'number' && typeof originMs === 'number';
}
