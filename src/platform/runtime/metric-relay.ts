/**
 * Metrics of tasks that run in forked worker processes. Each process records
 * into a relay, which sends the calls to the platform process in batches over
 * the worker pool's IPC channel, and the platform applies them to its own
 * metrics, so that /metrics covers tasks wherever they ran.
 */
import type { BreakerState, ModelLabels, PlatformMetrics } from '../metrics/index.js';

/** The metric methods a worker process records. */
export const RELAYED_METHODS = [
  'recordRequest',
  'observeQueueWait',
  'observeTimeToFirstToken',
  'recordFailover',
  'recordAttempt',
  'recordFallbackAttempt',
  'setBreakerState',
  'recordCost',
  'recordCapDeferral',
  'recordResumedSteps',
] as const;

export type RelayedMethod = (typeof RELAYED_METHODS)[number];

/** The part of the platform metrics that a task run records. */
export type MetricSink = Omit<Pick<PlatformMetrics, RelayedMethod>, 'setBreakerState'> & {
  /**
   * Sets the breaker gauge of `labels`. The gauge ignores `reason`, the cause of the change
   * such as `half-open probe succeeded`, and the platform passes it to breaker change listeners.
   */
  setBreakerState(labels: ModelLabels, state: BreakerState, reason?: string): void;
};

/** One recorded call: the method name and its JSON-serialisable arguments. */
export interface MetricCall {
  method: RelayedMethod;
  args: unknown[];
}

/** Calls per batch; a full batch is sent at once instead of waiting for the timer. */
const MAX_BATCH = 256;

/** A metric sink that collects calls and sends them in batches. */
export interface MetricRelay extends MetricSink {
  /** Sends the calls collected so far. */
  flush(): void;
  /** Sends what is left and stops the timer. */
  close(): void;
}

/**
 * Creates a relay that passes batches to `send` every `intervalMs`, or as soon
 * as MAX_BATCH calls wait. The timer does not keep the process alive.
 */
export function createMetricRelay(
  send: (calls: MetricCall[]) => void,
  intervalMs = 250,
): MetricRelay {
  let pending: MetricCall[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    send(batch);
  };
  const record =
    (method: RelayedMethod) =>
    (...args: unknown[]): void => {
      pending.push({ method, args });
      if (pending.length >= MAX_BATCH) flush();
    };
  const timer = setInterval(flush, intervalMs);
  timer.unref();
  const sink = Object.fromEntries(RELAYED_METHODS.map((method) => [method, record(method)]));
  return {
    ...(sink as unknown as MetricSink),
    flush,
    close: () => {
      clearInterval(timer);
      flush();
    },
  };
}

function isMetricCall(value: unknown): value is MetricCall {
  if (typeof value !== 'object' || value === null) return false;
  const { method, args } = value as { method?: unknown; args?: unknown };
  return (
    typeof method === 'string' &&
    (RELAYED_METHODS as readonly string[]).includes(method) &&
    Array.isArray(args)
  );
}

/**
 * Applies relayed calls to `metrics` and returns how many were applied. Calls
 * with an unknown method or without an argument list are skipped.
 */
export function applyMetricCalls(metrics: MetricSink, calls: unknown): number {
  if (!Array.isArray(calls)) return 0;
  let applied = 0;
  for (const call of calls) {
    if (!isMetricCall(call)) continue;
    (metrics[call.method] as (...args: unknown[]) => void)(...call.args);
    applied += 1;
  }
  return applied;
}
