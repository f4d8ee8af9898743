import type { ProbeResult, Report, SeriesPoint } from '../../../src/harness/report/types.js';
import { sampleReport } from './sample-report.js';

/**
 * Builds a series in which the workers pause from 20 s to 50 s. The queue grows by 4 tasks
 * a second, and batch requests are shed from 40 s, while the oldest task waits 20 s or more.
 * The queue drains by 56 s.
 */
function series(): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (let t = 0; t < 90; t += 1) {
    const paused = t >= 20 && t < 50;
    const draining = t >= 50 && t < 56;
    let depth = 1;
    let oldestAgeS = 0.3;
    if (paused) {
      depth = (t - 19) * 4;
      oldestAgeS = t - 19.5;
    } else if (draining) {
      depth = (56 - t) * 20;
      oldestAgeS = 30.5 + (t - 50);
    }
    const requests = 10;
    const shed = oldestAgeS >= 20 ? 2 : 0;
    points.push({
      t,
      requests,
      successes: requests - shed,
      throughputRpm: requests * 60,
      successRate: (requests - shed) / requests,
      p95S: paused || draining ? 31 : 2.1,
      failovers: 0,
      servedBy: { 'provider-a': requests - shed },
      queueDepth: depth,
      queueOldestAgeS: oldestAgeS,
    });
  }
  return points;
}

function probes(successRate: number, oldestAgeS: number): ProbeResult[] {
  return [
    {
      name: 'success-rate',
      metric: 'successRate',
      comparator: 'min',
      threshold: 0.99,
      tolerance: 0,
      value: successRate,
      passed: successRate >= 0.99,
    },
    {
      name: 'queue-oldest-age',
      metric: 'queueOldestAgeS',
      comparator: 'max',
      threshold: 5,
      tolerance: 0,
      value: oldestAgeS,
      passed: oldestAgeS <= 5,
    },
  ];
}

/**
 * Builds a schema-valid worker-loss report, with every async worker paused from 20 s to 50 s.
 * Backpressure shed 34 batch requests and no standard or critical one, as the oldest task
 * reached the batch watermark of 20 s under a 40 s hard limit.
 */
export function sampleWorkerLossReport(): Report {
  const base = sampleReport();
  const result = base.topologies[0];
  if (result === undefined || base.drill === null) throw new Error('sample report has no drill');
  return {
    ...base,
    runId: '20261205T140000Z-worker-loss',
    createdAt: '2026-12-05T14:00:00.000Z',
    scenario: {
      name: 'worker-loss',
      durationS: 90,
      arrivalRatePerMinute: 600,
      tenants: ['tenant-alpha', 'tenant-beta', 'tenant-batch'],
      routes: ['chat'],
    },
    verdict: { status: 'passed', reasons: [] },
    topologies: [{ ...result, failovers: [], timeSeries: series() }],
    drill: {
      ...base.drill,
      name: 'worker-loss',
      steadyState: [
        { phase: 'before', fromS: 0, toS: 20, passed: true, probes: probes(1, 0.3) },
        { phase: 'during', fromS: 20, toS: 50, passed: null, probes: probes(0.87, 30.5) },
        { phase: 'after', fromS: 65, toS: 90, passed: true, probes: probes(1, 0.3) },
      ],
      faults: [
        {
          id: 'workers-lost',
          kind: 'worker-pause',
          target: 'async workers',
          description: 'every async worker paused',
          startS: 20,
          endS: 50,
          appliedAtS: 20.02,
          removedAtS: 50.01,
          workerPause: {
            slots: 24,
            shed: [{ tenant: 'tenant-batch', priorityClass: 'batch', status: 429, requests: 34 }],
            backpressure: {
              maxQueueDepth: 1000,
              maxOldestAgeMs: 40_000,
              watermarks: { batch: 0.5, standard: 0.8 },
              retryAfterS: { min: 1, max: 60 },
            },
          },
        },
      ],
      timings: [],
      rollback: [{ step: 'resume the async workers', ok: true }],
    },
  };
}
