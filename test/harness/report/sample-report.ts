import type {
  BreakerJournal,
  BreakerRecord,
  FailoversByPair,
  FirstTokenSum,
  ProbeResult,
  Report,
  SeriesPoint,
} from '../../../src/harness/report/types.js';

/**
 * Returns the admission rejections of second `t`: 84 a second for tenant-noisy over its burst
 * from 60 s to 75 s, 1,260 in all, and 3 more in the second from 76 s to 77 s.
 */
function admissionRejections(t: number): Record<string, number> {
  if (t >= 60 && t < 75) return { 'tenant-noisy': 84 };
  return t === 76 ? { 'tenant-noisy': 3 } : {};
}

/**
 * Splits the 30 failovers of a second in which the outage was detected by provider pair: 28
 * from provider-a, 27 of them to provider-b and 1 to provider-c, and 2 from provider-b to
 * provider-c.
 */
function failoversByPair(detected: boolean): FailoversByPair {
  if (!detected) return {};
  return {
    'provider-a': { 'provider-b': 27, 'provider-c': 1 },
    'provider-b': { 'provider-c': 2 },
  };
}

/**
 * Returns the times to first token of the `successes` tasks one provider served in second
 * `t`: 0.3 s each from provider-a, 0.4 s each from provider-b, and 1.8 s each from provider-b
 * under its latency toxic from 30 s to 45 s.
 */
function firstToken(t: number, provider: string, successes: number): Record<string, FirstTokenSum> {
  const slow = t >= 30 && t < 45;
  let eachS = 0.4;
  if (provider === 'provider-a') eachS = 0.3;
  else if (slow) eachS = 1.8;
  return { [provider]: { count: successes, sumS: successes * eachS } };
}

/**
 * Builds a per-second series in which provider-a fails over to provider-b from 20 s to 50 s
 * and tenant-noisy is rejected over its burst.
 */
function series(): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (let t = 0; t < 90; t += 1) {
    const outage = t >= 20 && t < 53;
    const detected = t >= 23 && t < 53;
    const requests = 30;
    const successes = outage && !detected ? 18 : 30;
    const provider = detected ? 'provider-b' : 'provider-a';
    const servedBy: Record<string, number> = { [provider]: successes };
    points.push({
      t,
      requests,
      successes,
      throughputRpm: requests * 60,
      successRate: successes / requests,
      p95S: t >= 30 && t < 45 ? 4.1 : 2.2,
      failovers: detected ? successes : 0,
      failoversByPair: failoversByPair(detected),
      servedBy,
      queueDepth: 2,
      queueOldestAgeS: 0.2,
      admissionRejections: admissionRejections(t),
      firstTokenByProvider: firstToken(t, provider, successes),
    });
  }
  return points;
}

function probes(successRate: number, p95S: number): ProbeResult[] {
  return [
    {
      name: 'success-rate',
      metric: 'successRate',
      comparator: 'min',
      threshold: 0.97,
      tolerance: 0,
      value: successRate,
      passed: successRate >= 0.97,
    },
    {
      name: 'p95-latency',
      metric: 'p95S',
      comparator: 'max',
      threshold: 4,
      tolerance: 0.5,
      value: p95S,
      passed: p95S <= 4.5,
    },
  ];
}

/** Builds a complete, schema-valid drill report for the report and runbook tests. */
export function sampleReport(): Report {
  return {
    schemaVersion: 9,
    runId: '20261204T150000Z-provider-outage',
    createdAt: '2026-12-04T15:00:00.000Z',
    environment: {
      commit: 'abc1234',
      policyHash: 'a'.repeat(64),
      engine: 'embedded',
      seed: 42,
      timeScale: 10,
      machine: { cpus: 2, memoryBytes: 25_769_803_776, nodeVersion: 'v20.19.0', platform: 'linux' },
    },
    scenario: {
      name: 'provider-outage',
      durationS: 90,
      arrivalRatePerMinute: 1800,
      tenants: ['tenant-alpha', 'tenant-noisy'],
      routes: ['chat'],
    },
    verdict: { status: 'deviated', reasons: ['during: success-rate 0.964 below 0.97'] },
    topologies: [
      {
        topology: 'workers',
        settings: { workers: 24 },
        throughputRpm: 1800,
        sendWindowS: 90,
        requests: 2700,
        successRate: 0.964,
        latency: { p50S: 1.1, p95S: 3.4, p99S: 5.2 },
        perTenant: [
          {
            key: 'tenant-alpha',
            requests: 2000,
            successRate: 0.98,
            latency: { p50S: 1, p95S: 3, p99S: 4.5 },
          },
          {
            key: 'tenant-noisy',
            requests: 700,
            successRate: 0.92,
            latency: { p50S: 1.4, p95S: 4, p99S: 6 },
          },
        ],
        perRoute: [
          {
            key: 'chat',
            requests: 2700,
            successRate: 0.964,
            latency: { p50S: 1.1, p95S: 3.4, p99S: 5.2 },
          },
        ],
        statusCounts: { '200': 2603, '429': 61, '502': 36 },
        // The series' failovers by pair, summed over the run.
        failovers: [
          { fromProvider: 'provider-a', toProvider: 'provider-b', activations: 810 },
          { fromProvider: 'provider-a', toProvider: 'provider-c', activations: 30 },
          { fromProvider: 'provider-b', toProvider: 'provider-c', activations: 60 },
        ],
        // The chat route lists every provider it failed over to, so no fallback route was called.
        fallbackRouteAttempts: [],
        cost: {
          meanUsd: 0.019,
          p95Usd: 0.041,
          totalUsd: 49.46,
          byTenant: [
            { key: 'tenant-alpha', meanUsd: 0.018, p95Usd: 0.04, totalUsd: 36 },
            { key: 'tenant-noisy', meanUsd: 0.021, p95Usd: 0.043, totalUsd: 13.46 },
          ],
          byRoute: [{ key: 'chat', meanUsd: 0.019, p95Usd: 0.041, totalUsd: 49.46 }],
          providerBill: {
            lines: [
              {
                provider: 'provider-a',
                model: 'gpt-4o',
                inputTokens: 4_000_000,
                outputTokens: 2_000_000,
                usd: 30,
              },
              {
                provider: 'provider-b',
                model: 'claude-sonnet',
                inputTokens: 1_000_000,
                outputTokens: 1_000_000,
                usd: 18,
              },
            ],
            totalUsd: 48,
            chargedUsd: 47.9,
            differenceUsd: 0.1,
            unpricedTokens: 0,
            unreadProviders: [],
          },
        },
        harness: {
          valid: true,
          reasons: [],
          lagP99Ms: 3.2,
          droppedSends: 0,
          lateSends: 2,
          behindMs: 0,
        },
        timeSeries: series(),
      },
    ],
    drill: {
      name: 'provider-outage',
      steadyState: [
        { phase: 'before', fromS: 0, toS: 20, passed: true, probes: probes(1, 2.2) },
        { phase: 'during', fromS: 20, toS: 75, passed: false, probes: probes(0.964, 3.1) },
        { phase: 'after', fromS: 85, toS: 90, passed: true, probes: probes(1, 2.2) },
      ],
      faults: [
        {
          id: 'primary-outage',
          kind: 'provider-fault',
          target: 'provider-a',
          description: 'errorRate=1 errorStatus=503',
          startS: 20,
          endS: 50,
          appliedAtS: 20.01,
          removedAtS: 50.02,
        },
        {
          id: 'noisy-burst',
          kind: 'tenant-burst',
          target: 'tenant-noisy',
          description: '10x quota',
          startS: 60,
          endS: 75,
          appliedAtS: 60,
          removedAtS: 75,
          burst: { tenant: 'tenant-noisy', requests: 1500, succeeded: 240, shed: 1260 },
        },
        {
          id: 'fallback-latency',
          kind: 'toxic',
          target: 'provider-b',
          description: 'latency {"latency":1500,"jitter":200}',
          startS: 30,
          endS: 45,
          appliedAtS: 30,
          removedAtS: 45,
        },
      ],
      timings: [
        {
          faultId: 'primary-outage',
          primary: 'provider-a',
          fallback: 'provider-b',
          detectionS: 3.99,
          recoveryS: 3.98,
        },
      ],
      aborted: null,
      rollback: [{ step: 'remove toxics', ok: true }],
      cleanAfterRollback: true,
      leftovers: [],
      breakers: breakers(),
    },
  };
}

/**
 * Builds breakers in which provider-a/gpt-4o opens 1.39 s into the outage, a half-open
 * probe fails at 36.90 s, and the next one closes it at 52.30 s, after 30 s open in all.
 */
function breakers(): BreakerJournal {
  const closed = (provider: string, model: string): BreakerRecord => ({
    provider,
    model,
    startState: 'closed',
    endState: 'closed',
    openS: 0,
    transitions: [],
  });
  return {
    untilS: 90,
    targets: [
      {
        provider: 'provider-a',
        model: 'gpt-4o',
        startState: 'closed',
        endState: 'closed',
        openS: 30,
        transitions: [
          {
            atS: 21.4,
            from: 'closed',
            to: 'open',
            reason: 'failure threshold reached, last error status_5xx; half-open in 15000 ms',
          },
          { atS: 36.4, from: 'open', to: 'half-open', reason: 'open wait ended' },
          {
            atS: 36.9,
            from: 'half-open',
            to: 'open',
            reason: 'half-open probe failed with status_5xx; half-open in 15000 ms',
          },
          { atS: 51.9, from: 'open', to: 'half-open', reason: 'open wait ended' },
          { atS: 52.3, from: 'half-open', to: 'closed', reason: 'half-open probe succeeded' },
        ],
      },
      closed('provider-a', 'gpt-4o-mini'),
      closed('provider-b', 'claude-sonnet'),
    ],
  };
}

/** Builds the sample report as schema version 8 wrote it, without requests cut by a stop. */
export function sampleReportV8(): Report {
  const report = sampleReport();
  report.schemaVersion = 8;
  for (const topology of report.topologies) {
    delete topology.cutByStop;
    delete topology.cutAfterAccepted;
    for (const point of topology.timeSeries) delete point.cutByStop;
  }
  return report;
}

/** Builds the sample report as schema version 7 wrote it, without fallback route calls. */
export function sampleReportV7(): Report {
  const report = sampleReportV8();
  report.schemaVersion = 7;
  for (const topology of report.topologies) delete topology.fallbackRouteAttempts;
  return report;
}

/** Builds the sample report as schema version 6 wrote it, without times to first token. */
export function sampleReportV6(): Report {
  const report = sampleReportV7();
  report.schemaVersion = 6;
  for (const point of report.topologies[0]?.timeSeries ?? []) {
    delete point.firstTokenByProvider;
  }
  return report;
}

/** Builds the sample report as schema version 5 wrote it, without the providers' bill. */
export function sampleReportV5(): Report {
  const report = sampleReportV6();
  report.schemaVersion = 5;
  delete report.topologies[0]?.cost.providerBill;
  return report;
}

/**
 * Builds the sample report as schema version 4 wrote it, without failovers by provider pair,
 * send window or time behind schedule.
 */
export function sampleReportV4(): Report {
  const report = sampleReportV5();
  report.schemaVersion = 4;
  for (const point of report.topologies[0]?.timeSeries ?? []) {
    delete point.failoversByPair;
  }
  delete report.topologies[0]?.sendWindowS;
  delete report.topologies[0]?.harness.behindMs;
  return report;
}

/** Builds the sample report as schema version 3 wrote it, without admission rejections. */
export function sampleReportV3(): Report {
  const report = sampleReportV4();
  report.schemaVersion = 3;
  for (const point of report.topologies[0]?.timeSeries ?? []) {
    delete point.admissionRejections;
  }
  return report;
}

/** Builds the sample report as schema version 2 wrote it, without queue gauges. */
export function sampleReportV2(): Report {
  const report = sampleReportV3();
  report.schemaVersion = 2;
  for (const point of report.topologies[0]?.timeSeries ?? []) {
    delete point.queueDepth;
    delete point.queueOldestAgeS;
  }
  return report;
}

/** Builds the sample report as schema version 1 wrote it, without breakers or queue gauges. */
export function sampleReportV1(): Report {
  const report = sampleReportV2();
  report.schemaVersion = 1;
  delete report.drill?.breakers;
  return report;
}
