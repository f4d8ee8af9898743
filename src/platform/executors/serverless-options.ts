import type { Clock } from '../clock.js';

/** Prices of the emulated function, in US dollars. */
export interface ServerlessPrices {
  perGbSecondUsd: number;
  perRequestUsd: number;
}

/** Settings of the serverless emulator; every duration is in milliseconds. */
export interface ServerlessOptions {
  /** @defaultValue 250 */
  coldStartMs?: number;
  /**
   * Concurrency cap: the most instances alive at once. The default is AWS Lambda's default
   * account concurrency.
   * @defaultValue 1000
   */
  maxInstances?: number;
  /**
   * New instances that may start per second; the first second's worth starts at once. The
   * default is Lambda's per-function scaling rate of 1,000 instances per 10 s.
   * @defaultValue 100
   */
  scaleOutPerSecond?: number;
  /** Function timeout: the handler is aborted after this long. @defaultValue 900_000 */
  maxDurationMs?: number;
  /** API-gateway integration timeout: the client gets a timeout after this long. @defaultValue 29_000 */
  integrationTimeoutMs?: number;
  /** An instance idle for this long is reclaimed. @defaultValue 300_000 */
  idleReclaimMs?: number;
  /** @defaultValue 1024 */
  memoryMb?: number;
  /** @defaultValue zero prices */
  prices?: ServerlessPrices;
  /** @defaultValue systemClock */
  clock?: Clock;
}

export type ResolvedServerlessOptions = Required<Omit<ServerlessOptions, 'clock'>>;

const DEFAULTS: ResolvedServerlessOptions = {
  coldStartMs: 250,
  maxInstances: 1000,
  scaleOutPerSecond: 100,
  maxDurationMs: 900_000,
  integrationTimeoutMs: 29_000,
  idleReclaimMs: 300_000,
  memoryMb: 1024,
  prices: { perGbSecondUsd: 0, perRequestUsd: 0 },
};

/** Fills defaults and checks each option, naming it with the expected and received value. */
export function resolveServerlessOptions(options: ServerlessOptions): ResolvedServerlessOptions {
  const resolved: ResolvedServerlessOptions = { ...DEFAULTS };
  for (const name of NUMERIC_OPTIONS) {
    const value = options[name.key];
    if (value === undefined) continue;
    checkNumber(name.key, value, name.min, name.integer);
    resolved[name.key] = value;
  }
  if (options.prices !== undefined) {
    checkNumber('prices.perGbSecondUsd', options.prices.perGbSecondUsd, 0, false);
    checkNumber('prices.perRequestUsd', options.prices.perRequestUsd, 0, false);
    resolved.prices = { ...options.prices };
  }
  return resolved;
}

type NumericKey = Exclude<keyof ResolvedServerlessOptions, 'prices'>;

const NUMERIC_OPTIONS: { key: NumericKey; min: number; integer: boolean }[] = [
  { key: 'coldStartMs', min: 0, integer: false },
  { key: 'maxInstances', min: 1, integer: true },
  { key: 'scaleOutPerSecond', min: Number.MIN_VALUE, integer: false },
  { key: 'maxDurationMs', min: 1, integer: false },
  { key: 'integrationTimeoutMs', min: 1, integer: false },
  { key: 'idleReclaimMs', min: 1, integer: false },
  { key: 'memoryMb', min: 1, integer: true },
];

function checkNumber(name: string, value: number, min: number, integer: boolean): void {
  const valid = Number.isFinite(value) && value >= min && (!integer || Number.isInteger(value));
  if (!valid) {
    const expected = `${integer ? 'an integer' : 'a number'} >= ${min === Number.MIN_VALUE ? 'just above 0' : min}`;
    throw new RangeError(`${name} must be ${expected}, got ${String(value)}`);
  }
}
