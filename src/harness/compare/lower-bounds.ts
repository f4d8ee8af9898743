import type { LoadResult } from '../load/result.js';
import type { TopologyResult } from '../report/types.js';

/** Latency figures of a run, each with the percentile it reads. */
const LATENCY_PERCENTILES = [
  ['p50LatencyS', 'p50'],
  ['p95LatencyS', 'p95'],
  ['p99LatencyS', 'p99'],
] as const;

export type LatencyFigure = (typeof LATENCY_PERCENTILES)[number][0];

/**
 * Requests of a run that were aborted before their responses. Each counts in the latency
 * percentiles with the time it had waited, so a percentile it can move is only a lower bound.
 */
export interface AbortedRequests {
  aborted: number;
  /** Requests that ended: succeeded, failed or aborted. */
  ended: number;
  /** Latency figures that are lower bounds, in table order; empty when none was aborted. */
  lowerBounds: LatencyFigure[];
  /** Percentile names of `lowerBounds`, such as `p95`, for messages. */
  percentiles: string[];
}

/**
 * Reads the aborted requests of a load result. A percentile is exact when its upper bound,
 * with the aborted requests counted as never ending, equals it. It is a lower bound when the
 * upper bound is larger or null, or the result has no `upperBounds`.
 */
export function abortedInLoad(result: LoadResult): AbortedRequests {
  const { requests, latency } = result;
  const ended = requests.succeeded + requests.failed + requests.aborted;
  if (requests.aborted === 0) return noneAborted(ended);
  const upper = latency.upperBounds?.overall;
  const bounded = LATENCY_PERCENTILES.filter(([, percentile]) => {
    const bound = upper?.[percentile] ?? null;
    return bound === null || bound > latency.overall[percentile];
  });
  return withLowerBounds(requests.aborted, ended, bounded);
}

/**
 * Reads the aborted requests of a drill report's topology. The report has no count of its
 * own, but each point of its series counts aborted requests in `requests` and not in
 * `throughputRpm`, which is the completed requests of that second times 60. The report keeps
 * no upper bounds, so every latency percentile is a lower bound when a request was aborted.
 */
export function abortedInReport(topology: TopologyResult): AbortedRequests {
  let ended = 0;
  let completed = 0;
  for (const point of topology.timeSeries) {
    ended += point.requests;
    completed += point.throughputRpm / 60;
  }
  const aborted = Math.max(0, Math.round(ended - completed));
  if (aborted === 0) return noneAborted(ended);
  return withLowerBounds(aborted, ended, LATENCY_PERCENTILES);
}

function noneAborted(ended: number): AbortedRequests {
  return { aborted: 0, ended, lowerBounds: [], percentiles: [] };
}

function withLowerBounds(
  aborted: number,
  ended: number,
  bounded: readonly (typeof LATENCY_PERCENTILES)[number][],
): AbortedRequests {
  return {
    aborted,
    ended,
    lowerBounds: bounded.map(([figure]) => figure),
    percentiles: bounded.map(([, percentile]) => percentile),
  };
}
