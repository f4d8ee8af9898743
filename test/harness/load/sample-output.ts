import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { LatencySummary } from '../../../src/harness/load/latency-histogram.js';
import type { LoadCommandOutput } from '../../../src/harness/load/output.js';
import type { TimeSeriesPoint } from '../../../src/harness/load/result.js';

/** Figures of a sample load output; the rest of the output is fixed. */
export interface SampleFigures {
  completedRpm: number;
  successRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanUsd: number;
  p95Usd: number;
  workerPoolUsd: number;
}

export const BASE_FIGURES: SampleFigures = {
  completedRpm: 1000,
  successRate: 0.5,
  p50Ms: 2000,
  p95Ms: 4000,
  p99Ms: 8000,
  meanUsd: 0.004,
  p95Usd: 0.01,
  workerPoolUsd: 0.0002,
};

function latency(p50: number, p95: number, p99: number): LatencySummary {
  return { count: 100, min: 10, mean: p50, p50, p90: p95, p95, p99, max: p99 };
}

/** Part `index` of `total` split into `parts` whole shares that add up to `total`. */
function share(total: number, parts: number, index: number): number {
  return Math.floor((total * (index + 1)) / parts) - Math.floor((total * index) / parts);
}

/**
 * Builds the per-second series of a 5 s window. The `completed` requests that end inside
 * the window, `succeeded` of them successes, spread over seconds 0 to 4. The rest of the
 * 50 successes and 50 failures of the sample end in the drain, in second 5.
 */
function timeSeries(completed: number, succeeded: number): TimeSeriesPoint[] {
  const points: TimeSeriesPoint[] = [];
  for (let second = 0; second < 5; second += 1) {
    const successes = share(succeeded, 5, second);
    const failures = share(completed - succeeded, 5, second);
    points.push({ second, requests: 20, successes, failures, aborted: 0, p95Ms: 900 });
  }
  points.push({
    second: 5,
    requests: 0,
    successes: Math.max(0, 50 - succeeded),
    failures: Math.max(0, 50 - (completed - succeeded)),
    aborted: 0,
    p95Ms: 900,
  });
  return points;
}

/** Start time of the next sample, in epoch milliseconds. */
let nextStartedAt = 1_796_461_504_962;

/**
 * Builds a schema-valid `load --platform --out` JSON of a 5 s conv-replay run with the given
 * figures; tests change other fields on the returned object. Of the requests that end in
 * the window, the success rate's share succeeds. Each call starts one minute after the
 * previous one, so two samples are two runs.
 */
export function sampleLoadOutput(
  figures: SampleFigures = BASE_FIGURES,
  topology = 'workers=2 serverless_burst=disabled',
): LoadCommandOutput {
  const startedAt = nextStartedAt;
  nextStartedAt += 60_000;
  const completed = Math.round(figures.completedRpm / 12);
  const succeeded = Math.round(completed * figures.successRate);
  return {
    schemaVersion: 1,
    environment: {
      commit: 'abc1234def56',
      machine: {
        cpus: 2,
        cpuModel: 'Sample CPU',
        memoryBytes: 25_276_194_816,
        nodeVersion: 'v20.20.2',
        platform: 'linux',
      },
    },
    settings: {
      scenario: 'conv-replay',
      engine: 'embedded',
      seed: 1,
      durationSec: 5,
      target: 'http://127.0.0.1:40000',
      maxInFlight: null,
      drainTimeoutSec: null,
      platform: {
        topology,
        policyPath: 'policies/default.yaml',
        policyHash: 'e'.repeat(64),
        faultProxy: true,
      },
    },
    result: {
      engine: 'embedded',
      scenario: 'conv-replay',
      target: 'http://127.0.0.1:40000',
      seed: 1,
      startedAt,
      elapsedSec: 12.5,
      requests: {
        scheduled: 100,
        sent: 100,
        succeeded: 50,
        failed: 50,
        dropped: 0,
        late: 0,
        aborted: 0,
      },
      throughput: {
        windowSec: 5,
        offeredRpm: 1200,
        completedInWindow: completed,
        completedRpm: figures.completedRpm,
      },
      drain: { timeoutSec: 10, endedBy: 'idle', aborted: 0 },
      successRate: figures.successRate,
      latency: {
        overall: latency(figures.p50Ms, figures.p95Ms, figures.p99Ms),
        byTenant: { 'tenant-alpha': latency(figures.p50Ms, figures.p95Ms, figures.p99Ms) },
        byRoute: {},
        byTopology: {},
      },
      successRateByTenant: { 'tenant-alpha': { finished: 100, succeeded: 50, aborted: 0 } },
      successRateByRoute: { chat: { finished: 100, succeeded: 50, aborted: 0 } },
      schedulerLag: latency(1, 2, 3),
      schedulerStalls: { lagLimitMs: 50, behindMs: 0, longestStallMs: 0, stalls: 0 },
      statusCodes: { '200': 50, '502': 50 },
      errorCodes: { provider_unavailable: 50 },
      timeSeries: timeSeries(completed, succeeded),
      async: {
        accepted: 0,
        succeeded: 0,
        failed: 0,
        timedOut: 0,
        aborted: 0,
        endToEnd: latency(0, 0, 0),
      },
      health: { valid: true, reasons: [] },
    },
    verdict: { passed: true, checks: [] },
    platform: {
      topology,
      cost: {
        tasks: 100,
        totalUsd: figures.meanUsd * 100,
        meanUsdPerTask: figures.meanUsd,
        p95UsdPerTask: figures.p95Usd,
        unsettledTasks: 0,
        workerPoolUsd: figures.workerPoolUsd,
      },
    },
  };
}

/** Writes `value` as JSON to `<dir>/<name>` and returns the path. */
export async function writeJson(dir: string, name: string, value: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}
