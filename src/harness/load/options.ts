import { DEFAULT_DEMO_KEYS_PATH } from '../../platform/tenants/demo-keys.js';
import { type Clock, systemClock } from '../../platform/clock.js';
import type { TraceRow } from '../scenario/trace.js';
import { type HealthLimits, type HealthLimitsInput, resolveHealthLimits } from './health.js';
import type { ProgressSnapshot } from './recorder.js';
import type { LatencyListener } from './time-series.js';

export type { HealthLimits } from './health.js';

/** Options of {@link runLoad}; scenario values are used where an option is absent. */
export interface RunLoadOptions {
  /** Gateway base URL. @defaultValue the scenario's target */
  target?: string;
  /** @defaultValue the scenario's durationSec */
  durationSec?: number;
  /** @defaultValue 1 */
  seed?: number;
  /** Tenant id to API key; when absent the keys are read from `keysFile`. */
  keys?: Record<string, string>;
  /** @defaultValue 'fixtures/demo-keys.yaml' */
  keysFile?: string;
  /** Outstanding requests (including async tasks being followed) above which sends are dropped. @defaultValue 1000 */
  maxInFlight?: number;
  /**
   * Keep-alive connections in the HTTP pool; requests beyond it wait in the pool queue, and
   * that wait counts as latency. It defaults to `maxInFlight` so that the pool never caps an
   * open model below its in-flight limit: at 2,000 requests/min of 4 s completions, 128
   * connections would already be the bottleneck.
   * @defaultValue maxInFlight
   */
  connections?: number;
  /** A send later than this after its scheduled time counts as late. @defaultValue 10 */
  lateThresholdMs?: number;
  /** Time allowed after the duration for outstanding requests before they are aborted. @defaultValue 10000 */
  drainTimeoutMs?: number;
  /** Headers and body timeout of one HTTP request. @defaultValue 30000 */
  requestTimeoutMs?: number;
  /** Interval between polls of an async task, 10 to 10000 ms. @defaultValue 250 */
  asyncPollIntervalMs?: number;
  /** Time after the scheduled send at which an async task counts as timed out. @defaultValue 60000 */
  asyncTimeoutMs?: number;
  /** Timeout of the `GET /healthz` probe before the run. @defaultValue 2000 */
  probeTimeoutMs?: number;
  /** Limits that mark a run invalid; see {@link HealthLimits} for the rule. */
  health?: HealthLimitsInput;
  /** Topology label for latency breakdowns when the target sends no `x-scalegate-topology` header. @defaultValue 'default' */
  topology?: string;
  /** Trace rows to replay instead of reading the scenario's trace file. */
  traceRows?: readonly TraceRow[];
  /**
   * Returns the largest `maxOutputTokens` a route's models accept. The schedule clamps
   * larger output lengths to it. @defaultValue no clamp
   */
  outputLimitOf?: (route: string) => number | undefined;
  /** Called once per progress interval. */
  onProgress?: (progress: ProgressSnapshot) => void;
  /**
   * Called as each request ends, or the drain aborts it, with the second of `timeSeries`
   * that counts it and its latency in milliseconds (an aborted request's wait).
   */
  onLatency?: LatencyListener;
  /**
   * Called once, just before the first scheduled send, with the clock's monotonic time in
   * ms at which second 0 of `timeSeries` starts. A run whose set-up fails never calls it.
   */
  onStart?: (monotonicMs: number) => void;
  /** @defaultValue 1000 */
  progressIntervalMs?: number;
  /** Aborts the run early; outstanding requests are aborted and the result is marked invalid. */
  signal?: AbortSignal;
  /** @defaultValue systemClock */
  clock?: Clock;
}

export type ResolvedLoadOptions = Required<
  Omit<
    RunLoadOptions,
    | 'keys'
    | 'traceRows'
    | 'outputLimitOf'
    | 'onProgress'
    | 'onLatency'
    | 'onStart'
    | 'signal'
    | 'health'
    | 'target'
    | 'durationSec'
  >
> &
  Pick<
    RunLoadOptions,
    'keys' | 'traceRows' | 'outputLimitOf' | 'onProgress' | 'onLatency' | 'onStart' | 'signal'
  > & {
    health: HealthLimits;
  };

/** Default headers and body timeout of one load request, in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

const DEFAULTS = {
  seed: 1,
  keysFile: DEFAULT_DEMO_KEYS_PATH,
  maxInFlight: 1000,
  lateThresholdMs: 10,
  drainTimeoutMs: 10_000,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  asyncPollIntervalMs: 250,
  asyncTimeoutMs: 60_000,
  probeTimeoutMs: 2000,
  topology: 'default',
  progressIntervalMs: 1000,
} as const;

/** Applies defaults and checks ranges, naming the option, the expected and the received value. */
export function resolveLoadOptions(options: RunLoadOptions): ResolvedLoadOptions {
  const provided = withoutUndefined(options);
  const maxInFlight = provided.maxInFlight ?? DEFAULTS.maxInFlight;
  const resolved = {
    ...DEFAULTS,
    connections: maxInFlight,
    ...provided,
    clock: options.clock ?? systemClock,
    health: resolveHealthLimits(options.health),
  };
  if (!Number.isInteger(resolved.seed)) fail('seed', 'an integer', resolved.seed);
  requireInteger('maxInFlight', resolved.maxInFlight, 1);
  requireInteger('connections', resolved.connections, 1);
  requireNumber('lateThresholdMs', resolved.lateThresholdMs, 0);
  requireNumber('drainTimeoutMs', resolved.drainTimeoutMs, 0);
  requireNumber('requestTimeoutMs', resolved.requestTimeoutMs, 1);
  requireNumber('asyncTimeoutMs', resolved.asyncTimeoutMs, 1);
  requireNumber('probeTimeoutMs', resolved.probeTimeoutMs, 1);
  requireNumber('progressIntervalMs', resolved.progressIntervalMs, 1);
  const poll = resolved.asyncPollIntervalMs;
  if (!(poll >= 10 && poll <= 10_000))
    fail('asyncPollIntervalMs', 'a number from 10 to 10000', poll);
  return resolved;
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) fail(name, `an integer >= ${min}`, value);
}

function requireNumber(name: string, value: number, min: number): void {
  if (!Number.isFinite(value) || value < min) fail(name, `a number >= ${min}`, value);
}

function fail(name: string, expected: string, value: unknown): never {
  throw new RangeError(`${name} must be ${expected}, got ${String(value)}`);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
