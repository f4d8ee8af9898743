import type { CostTotal, CostSummary as LedgerCostSummary } from '../../platform/cost/ledger.js';
import { roundUsd } from '../../platform/cost/usd.js';
import { emptySummary, type LatencySummary as LoadLatency } from '../load/latency-histogram.js';
import type { LoadResult } from '../load/result.js';
import type {
  Breakdown,
  CostSummary,
  FailoverCount,
  FallbackRouteAttempts,
  FailoversByPair,
  FirstTokenSum,
  LatencySummary,
  SeriesPoint,
  TopologyResult,
} from './types.js';

/** Topology fields that the load result lacks, measured from the platform's /metrics. */
export interface TopologyExtras {
  topology: string;
  settings?: Record<string, string | number | boolean>;
  failovers: FailoverCount[];
  /** Provider calls to candidates of fallback routes; drills only. */
  fallbackRouteAttempts?: FallbackRouteAttempts[];
  cost: CostSummary;
  /** Successful requests per provider for each second of the run, keyed by second. */
  servedBySecond?: ReadonlyMap<number, Record<string, number>>;
  /** Failovers for each second of the run, keyed by second. */
  failoversBySecond?: ReadonlyMap<number, number>;
  /** Failovers per provider pair for each read second, keyed by second. */
  failoversByPairBySecond?: ReadonlyMap<number, FailoversByPair>;
  /** Queue gauges read at the end of each second, keyed by second; seconds without a read are absent. */
  queueBySecond?: ReadonlyMap<number, { depth: number; oldestAgeS: number }>;
  /** Admission rejections per tenant for each read second, keyed by second. */
  admissionRejectionsBySecond?: ReadonlyMap<number, Record<string, number>>;
  /** Times to first token per provider for each read second, keyed by second. */
  firstTokenBySecond?: ReadonlyMap<number, Record<string, FirstTokenSum>>;
}

/**
 * Builds a report's cost from a cost ledger's summary, with a slice per tenant and per
 * route. `unsettledTasks` counts the tasks still open when the ledger was read.
 */
export function reportCostOf(summary: LedgerCostSummary, unsettledTasks: number): CostSummary {
  const slices = (totals: Record<string, CostTotal>) =>
    Object.entries(totals).map(([key, total]) => ({
      key,
      meanUsd: total.tasks === 0 ? 0 : roundUsd(total.totalUsd / total.tasks),
      p95Usd: total.p95Usd,
      totalUsd: total.totalUsd,
    }));
  return {
    meanUsd: summary.meanUsdPerTask,
    p95Usd: summary.p95UsdPerTask,
    totalUsd: summary.totalUsd,
    unsettledTasks,
    workerPoolUsd: summary.workerPoolUsd,
    byTenant: slices(summary.byTenant),
    byRoute: slices(summary.byRoute),
  };
}

function seconds(latency: LoadLatency): LatencySummary {
  return { p50S: latency.p50 / 1000, p95S: latency.p95 / 1000, p99S: latency.p99 / 1000 };
}

/**
 * True when the run's own stop, such as a drill's abort, ended it. Every request aborted then
 * was cut by the stop, so its outcome measures nothing about the platform.
 */
function stoppedBySignal(result: LoadResult): boolean {
  return result.drain?.endedBy === 'signal';
}

/**
 * Returns the run's success rate over the requests that ended. A run its stop ended leaves out
 * the requests the stop cut, as its series and the drill's probes do, so that they do not read
 * as platform failures.
 */
function successRateOf(result: LoadResult): number {
  if (!stoppedBySignal(result)) return result.successRate;
  const { succeeded, failed } = result.requests;
  return succeeded + failed === 0 ? 0 : succeeded / (succeeded + failed);
}

/**
 * Returns the latencies the report's percentiles cover. A run its stop ended leaves out the
 * waits of the requests the stop cut, which would make every percentile a lower bound, and
 * keeps those of the requests that ended on their own. A run that finished keeps the waits of
 * the requests its drain deadline aborted.
 */
function reportedLatency(result: LoadResult): LoadResult['latency'] {
  const completed = result.latency.completed;
  if (!stoppedBySignal(result) || completed === undefined) return result.latency;
  return { ...result.latency, ...completed };
}

/**
 * Builds a row per key of `all`, the latencies with every request, showing the latencies in
 * `reported`. A group whose every request the stop cut is absent from `reported`, so its
 * percentiles read 0.
 */
function breakdown(
  all: LoadResult['latency']['byTenant'],
  reported: LoadResult['latency']['byTenant'],
  outcomes: LoadResult['successRateByTenant'],
  leaveOutAborted: boolean,
): Breakdown[] {
  return Object.keys(all).map((key) => {
    const counts = outcomes[key] ?? { finished: 0, succeeded: 0, aborted: 0 };
    const ended = leaveOutAborted ? counts.finished - counts.aborted : counts.finished;
    const successRate = ended === 0 ? 0 : counts.succeeded / ended;
    const latency = seconds(reported[key] ?? emptySummary());
    return { key, requests: counts.finished, successRate, latency };
  });
}

function series(result: LoadResult, extras: TopologyExtras): SeriesPoint[] {
  // A run that its signal stopped, as a drill's abort does, waits for no drain.
  const stopped = stoppedBySignal(result);
  return result.timeSeries.map((point) => {
    // Counted by end time, like the successes, so in-flight requests do not read as failures.
    // Requests the drain deadline aborted ended without a reply: they count against success,
    // not as throughput. Requests the stop cut are counted apart in `cutByStop`.
    const completed = point.successes + point.failures;
    const cutByStop = stopped ? point.aborted : 0;
    const ended = completed + point.aborted - cutByStop;
    const seriesPoint: SeriesPoint = {
      t: point.second,
      requests: ended,
      successes: point.successes,
      throughputRpm: completed * 60,
      successRate: ended === 0 ? 0 : point.successes / ended,
      p95S: point.p95Ms / 1000,
      failovers: extras.failoversBySecond?.get(point.second) ?? 0,
      servedBy: extras.servedBySecond?.get(point.second) ?? {},
    };
    if (cutByStop > 0) seriesPoint.cutByStop = cutByStop;
    const queue = extras.queueBySecond?.get(point.second);
    if (queue !== undefined) {
      seriesPoint.queueDepth = queue.depth;
      seriesPoint.queueOldestAgeS = queue.oldestAgeS;
    }
    const pairs = extras.failoversByPairBySecond?.get(point.second);
    if (pairs !== undefined) seriesPoint.failoversByPair = pairs;
    const rejections = extras.admissionRejectionsBySecond?.get(point.second);
    if (rejections !== undefined) seriesPoint.admissionRejections = rejections;
    const firstToken = extras.firstTokenBySecond?.get(point.second);
    if (firstToken !== undefined) seriesPoint.firstTokenByProvider = firstToken;
    return seriesPoint;
  });
}

/**
 * Converts a load engine result into one topology of a report. `perRoute` stays empty for
 * k6 results, which carry no outcomes per route.
 */
export function topologyFromLoad(result: LoadResult, extras: TopologyExtras): TopologyResult {
  const sendWindowS = result.throughput?.windowSec;
  const stopped = stoppedBySignal(result);
  const latency = reportedLatency(result);
  const cutByStop = stopped ? result.requests.aborted : 0;
  // Every async task aborted in a stopped run was cut after its submission's 202.
  const cutAfterAccepted = stopped ? result.async.aborted : 0;
  return {
    topology: extras.topology,
    settings: extras.settings ?? {},
    throughputRpm: throughputRpmOf(result),
    ...(sendWindowS === undefined ? {} : { sendWindowS }),
    requests: result.requests.sent,
    successRate: successRateOf(result),
    latency: seconds(latency.overall),
    perTenant: breakdown(
      result.latency.byTenant,
      latency.byTenant,
      result.successRateByTenant,
      stopped,
    ),
    perRoute:
      result.successRateByRoute === undefined
        ? []
        : breakdown(result.latency.byRoute, latency.byRoute, result.successRateByRoute, stopped),
    statusCounts: { ...result.statusCodes },
    ...(cutByStop === 0 ? {} : { cutByStop }),
    ...(cutAfterAccepted === 0 ? {} : { cutAfterAccepted }),
    failovers: extras.failovers,
    ...(extras.fallbackRouteAttempts === undefined
      ? {}
      : { fallbackRouteAttempts: extras.fallbackRouteAttempts }),
    cost: extras.cost,
    harness: {
      valid: result.health.valid,
      reasons: result.health.reasons,
      lagP99Ms: result.schedulerLag.p99,
      droppedSends: result.requests.dropped,
      lateSends: result.requests.late,
      ...(result.schedulerStalls === undefined
        ? {}
        : { behindMs: result.schedulerStalls.behindMs }),
    },
    timeSeries: series(result, extras),
  };
}

/**
 * Requests completed per minute of the send window; the drain after the schedule is left
 * out because nothing new is sent then. k6 results, which do not time completions, fall
 * back to the offered rate, and results without a window to sent requests per elapsed time.
 */
export function throughputRpmOf(result: LoadResult): number {
  const throughput = result.throughput;
  if (throughput !== undefined) return throughput.completedRpm ?? throughput.offeredRpm;
  const elapsedMin = result.elapsedSec / 60;
  return elapsedMin === 0 ? 0 : result.requests.sent / elapsedMin;
}
