import { evaluateHealth } from '../load/health.js';
import { emptySummary, type LatencySummary } from '../load/latency-histogram.js';
import type { HealthLimits } from '../load/options.js';
import type { LoadResult, Throughput } from '../load/result.js';
import { successRateOf } from '../load/success-rate.js';
import { K6_METRICS } from './plan.js';

/** The parts of k6's `handleSummary` data that the converter reads. */
export interface K6SummaryData {
  state?: { testRunDurationMs?: number };
  metrics?: Record<string, { type?: string; contains?: string; values?: Record<string, number> }>;
}

export interface ConvertK6Options {
  scenario?: string;
  target?: string;
  /** Epoch milliseconds at the run start. @defaultValue 0 */
  startedAt?: number;
  /** Scheduled duration, the send window of the rates; without it the result has no `throughput`. */
  durationSec?: number;
  health?: Partial<HealthLimits>;
}

/** Raised when the input is not a k6 summary object. */
export class K6SummaryError extends Error {
  readonly code = 'K6_SUMMARY_INVALID';
}

export function isK6SummaryError(error: unknown): error is K6SummaryError {
  return error instanceof K6SummaryError;
}

/**
 * Converts k6 `handleSummary` data into the embedded engine's result type.
 * A metric missing from the summary counts as 0. k6 reports neither scheduler
 * lag nor per-second series, so those stay empty.
 */
export function convertK6Summary(summaryJson: unknown, options: ConvertK6Options = {}): LoadResult {
  const data = parseSummary(summaryJson);
  const metrics = new MetricReader(data);
  const succeeded = metrics.value(K6_METRICS.success, 'passes');
  const failed = metrics.value(K6_METRICS.success, 'fails');
  const dropped = metrics.value('dropped_iterations', 'count');
  const requests = {
    scheduled: succeeded + failed + dropped,
    sent: metrics.value('iterations', 'count'),
    succeeded,
    failed,
    dropped,
    // k6 reports no scheduler lag, so nothing is counted here, and the summary prints
    // `late_sends=n/a` for a k6 run.
    late: 0,
    aborted: 0,
  };
  const limits = { maxLagP99Ms: 50, maxDroppedFraction: 0.01, ...options.health };
  return {
    engine: 'k6',
    scenario: options.scenario ?? 'unknown',
    target: options.target ?? 'unknown',
    startedAt: options.startedAt ?? 0,
    elapsedSec: (data.state?.testRunDurationMs ?? 0) / 1000,
    requests,
    ...(options.durationSec === undefined
      ? {}
      : { throughput: offeredThroughput(requests.sent, options.durationSec) }),
    successRate: successRateOf(requests),
    latency: {
      overall: metrics.latency(K6_METRICS.latency),
      byTenant: metrics.byTag(K6_METRICS.latency, 'tenant', (name) => metrics.latency(name)),
      byRoute: metrics.byTag(K6_METRICS.latency, 'route', (name) => metrics.latency(name)),
      byTopology: {},
    },
    successRateByTenant: metrics.byTag(K6_METRICS.success, 'tenant', (name) => ({
      finished: metrics.value(name, 'passes') + metrics.value(name, 'fails'),
      succeeded: metrics.value(name, 'passes'),
      // k6 reports no drain aborts, so none are counted here, as in `requests.aborted`.
      aborted: 0,
    })),
    schedulerLag: emptySummary(),
    statusCodes: {},
    errorCodes: {},
    timeSeries: [],
    async: {
      accepted: metrics.value(K6_METRICS.asyncAccepted, 'count'),
      succeeded: metrics.value(K6_METRICS.asyncSucceeded, 'count'),
      failed: metrics.value(K6_METRICS.asyncFailed, 'count'),
      timedOut: metrics.value(K6_METRICS.asyncTimedOut, 'count'),
      aborted: 0,
      endToEnd: metrics.latency(K6_METRICS.asyncLatency),
    },
    health: evaluateHealth({ counts: requests, lagP99Ms: 0, limits, abortedEarly: false }),
    checks: { passes: metrics.value('checks', 'passes'), fails: metrics.value('checks', 'fails') },
  };
}

function parseSummary(summaryJson: unknown): K6SummaryData {
  const data = typeof summaryJson === 'string' ? (JSON.parse(summaryJson) as unknown) : summaryJson;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new K6SummaryError('k6 summary must be an object with a "metrics" field');
  }
  const metrics = (data as { metrics?: unknown }).metrics;
  if (metrics !== undefined && (typeof metrics !== 'object' || metrics === null)) {
    throw new K6SummaryError('k6 summary field "metrics" must be an object');
  }
  return data as K6SummaryData;
}

/** Reads metric values, treating a missing metric or value as 0. */
class MetricReader {
  readonly #metrics: NonNullable<K6SummaryData['metrics']>;

  constructor(data: K6SummaryData) {
    this.#metrics = data.metrics ?? {};
  }

  value(metric: string, stat: string): number {
    const value = this.#metrics[metric]?.values?.[stat];
    return typeof value === 'number' && Number.isFinite(value) ? value : 0;
  }

  /** Summary of a trend in milliseconds; `count` falls back to 0 when k6 omitted it. */
  latency(metric: string): LatencySummary {
    if (this.#metrics[metric] === undefined) return emptySummary();
    const stat = (name: string): number => this.value(metric, name);
    return {
      count: stat('count'),
      min: stat('min'),
      mean: stat('avg'),
      p50: stat('med'),
      p90: stat('p(90)'),
      p95: stat('p(95)'),
      p99: stat('p(99)'),
      max: stat('max'),
    };
  }

  /** Applies `read` to every `metric{tag:value}` sub-metric, keyed by the tag value. */
  byTag<T>(metric: string, tag: string, read: (name: string) => T): Record<string, T> {
    const prefix = `${metric}{${tag}:`;
    const out: Record<string, T> = {};
    for (const name of Object.keys(this.#metrics).sort()) {
      if (name.startsWith(prefix) && name.endsWith('}'))
        out[name.slice(prefix.length, -1)] = read(name);
    }
    return out;
  }
}

/**
 * Sent requests per minute of the scheduled duration. k6 reports no finish times, so the
 * completion rate inside the window stays undefined.
 */
function offeredThroughput(sent: number, durationSec: number): Throughput {
  return { windowSec: durationSec, offeredRpm: durationSec > 0 ? (sent / durationSec) * 60 : 0 };
}
