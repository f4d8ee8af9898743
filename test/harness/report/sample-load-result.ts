import type { LoadResult } from '../../../src/harness/load/result.js';

/** Builds a latency summary in milliseconds from its p50, p95 and p99. */
export function latency(p50: number, p95: number, p99: number) {
  return { count: 10, min: 1, mean: p50, p50, p90: p95, p95, p99, max: p99 };
}

/** Builds a load result of 240 requests over 120 s, 10 of them failed, with one second of series. */
export function sampleLoadResult(): LoadResult {
  return {
    engine: 'embedded',
    scenario: 'unit',
    target: 'http://127.0.0.1:1',
    startedAt: 0,
    elapsedSec: 120,
    requests: {
      scheduled: 240,
      sent: 240,
      succeeded: 230,
      failed: 10,
      dropped: 1,
      late: 3,
      aborted: 0,
    },
    successRate: 230 / 240,
    latency: {
      overall: latency(800, 2400, 3100),
      byTenant: { 'tenant-alpha': latency(700, 2000, 2900) },
      byRoute: {},
      byTopology: {},
    },
    successRateByTenant: { 'tenant-alpha': { finished: 200, succeeded: 196, aborted: 0 } },
    schedulerLag: latency(1, 2, 4),
    statusCodes: { '200': 230, '502': 10 },
    errorCodes: { provider_unavailable: 10 },
    timeSeries: [{ second: 0, requests: 2, successes: 1, failures: 1, aborted: 0, p95Ms: 1500 }],
    async: {
      accepted: 0,
      succeeded: 0,
      failed: 0,
      timedOut: 0,
      aborted: 0,
      endToEnd: latency(0, 0, 0),
    },
    health: { valid: true, reasons: [] },
  };
}
