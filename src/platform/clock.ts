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

/**
 * A clock whose durations shrink by `scale`: with scale 10, a 60 s fault window
 * lasts 6 s of wall time, while `now()` reports the simulated time.
 */
export function scaledClock(scale: number, base: Clock = systemClock): Clock {
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new RangeError(`time scale must be a positive number, got ${String(scale)}`);
  }
  const wallStart = base.now();
  const monoStart = base.monotonic();
  return {
    now: () => wallStart + (base.now() - wallStart) * scale,
    monotonic: () => monoStart + (base.monotonic() - monoStart) * scale,
    sleep: (ms, signal) => base.sleep(ms / scale, signal),
    setTimeout: (callback, ms) => base.setTimeout(callback, ms / scale),
    clearTimeout: (handle) => base.clearTimeout(handle),
  };
}
