import type { Clock } from '../../../src/platform/clock.js';
import type { LoadStream } from '../../../src/harness/drill/deps.js';
import { LatencyBySecond } from '../../../src/harness/load/latency-by-second.js';
import type { SeriesPoint, TopologyResult } from '../../../src/harness/report/types.js';

/**
 * Shape of one second: requests, successes and which provider served them. `latenciesS`
 * lists the latency of each request that ended in the second; without it every request
 * took `p95S`.
 */
export type SecondShape = (t: number) => {
  requests: number;
  successes: number;
  p95S: number;
  servedBy: Record<string, number>;
  failovers?: number;
  latenciesS?: number[];
};

function toTopology(series: SeriesPoint[]): TopologyResult {
  const requests = series.reduce((sum, point) => sum + point.requests, 0);
  const successes = series.reduce((sum, point) => sum + point.successes, 0);
  const latency = { p50S: 1, p95S: 2, p99S: 3 };
  return {
    topology: 'fake',
    settings: {},
    throughputRpm: series.length === 0 ? 0 : (requests / series.length) * 60,
    requests,
    successRate: requests === 0 ? 0 : successes / requests,
    latency,
    perTenant: [],
    perRoute: [],
    statusCounts: { '200': successes, '429': requests - successes },
    failovers: [],
    cost: { meanUsd: 0.01, p95Usd: 0.02, totalUsd: successes * 0.01, byTenant: [], byRoute: [] },
    harness: { valid: true, reasons: [], lagP99Ms: 1, droppedSends: 0, lateSends: 0 },
    timeSeries: series,
  };
}

/**
 * A load stream that reports one point per completed simulated second, shaped by `shape`;
 * `stopped` returns whether the runner stopped it.
 */
export function fakeLoad(
  clock: Clock,
  shape: SecondShape,
): LoadStream & { stopped: () => boolean } {
  const start = clock.monotonic();
  let stoppedAt: number | undefined;
  let resolveResult: (result: TopologyResult) => void = () => undefined;
  const result = new Promise<TopologyResult>((resolve) => {
    resolveResult = resolve;
  });
  const series = (): SeriesPoint[] => {
    const end = stoppedAt ?? clock.monotonic();
    const seconds = Math.floor((end - start) / 1000);
    return Array.from({ length: seconds }, (_, t) => {
      const second = shape(t);
      return {
        t,
        requests: second.requests,
        successes: second.successes,
        throughputRpm: second.requests * 60,
        successRate: second.requests === 0 ? 0 : second.successes / second.requests,
        p95S: second.p95S,
        failovers: second.failovers ?? 0,
        servedBy: second.servedBy,
      };
    });
  };
  const latencyBySecond = new LatencyBySecond();
  return {
    started: Promise.resolve(start),
    series,
    latencyBySecond,
    stop() {
      if (stoppedAt === undefined) {
        stoppedAt = clock.monotonic();
        const points = series();
        for (const point of points) {
          const second = shape(point.t);
          const latencies = second.latenciesS ?? Array(second.requests).fill(second.p95S);
          for (const latencyS of latencies) latencyBySecond.record(point.t, latencyS * 1000);
        }
        resolveResult(toTopology(points));
      }
    },
    result,
    stopped: () => stoppedAt !== undefined,
  };
}
