import { peakRate } from '../load/arrivals.js';
import type { TraceRow } from '../scenario/trace.js';
import type { ScenarioSpec, SloLimits, TenantShare } from '../scenario/types.js';
import { validateScenario } from '../scenario/validate.js';
import {
  K6_METRICS,
  type K6Options,
  type K6Plan,
  type K6Scenario,
  type K6TaskSizes,
  type K6TenantWorkload,
} from './plan.js';
import { type RateSegment, rateSegments } from './stages.js';

export interface CompileK6Options {
  /** Rows of the scenario's trace, required for a trace-replay arrival. */
  traceRows?: readonly TraceRow[];
  /** Latency assumed when sizing pre-allocated VUs by Little's law. @defaultValue 5 */
  expectedLatencySec?: number;
  /** maxVUs as a multiple of preAllocatedVUs. @defaultValue 4 */
  maxVUsFactor?: number;
  /** Fraction of expected iterations that k6 may drop before the threshold fails. @defaultValue 0.01 */
  maxDroppedFraction?: number;
  /** Width of the trace-rate buckets that become ramp stages. @defaultValue 10 */
  traceBucketSec?: number;
  /** @defaultValue 250 */
  asyncPollIntervalMs?: number;
  /** @defaultValue 60000 */
  asyncTimeoutMs?: number;
  /**
   * Returns the largest `maxOutputTokens` a route's models accept, or undefined when it is
   * unknown. The entry script clamps a larger drawn or sampled output length to it, as the
   * embedded engine's schedule does. @defaultValue no clamp
   */
  outputLimitOf?: (route: string) => number | undefined;
}

/** Rates are expressed per minute so that fractional per-second rates survive k6's integer rates. */
const TIME_UNIT = '1m';
const TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'];
const TRACE_SAMPLE_LIMIT = 2000;

/**
 * Compiles a scenario into k6 options, with one arrival-rate scenario per tenant
 * (its share of the total rate), and the workload data the entry script reads.
 */
export function compileScenarioToK6(spec: ScenarioSpec, options: CompileK6Options = {}): K6Plan {
  const scenario = validateScenario(spec);
  if (scenario.arrival.kind === 'trace' && options.traceRows === undefined) {
    throw new TypeError(
      'traceRows is required to compile a trace-replay scenario; read them with loadTrace',
    );
  }
  const totalWeight = scenario.tenants.reduce((sum, tenant) => sum + tenant.weight, 0);
  const scenarios: Record<string, K6Scenario> = {};
  for (const tenant of scenario.tenants) {
    scenarios[scenarioKey(tenant.tenantId)] = tenantScenario(
      scenario,
      tenant,
      tenant.weight / totalWeight,
      options,
    );
  }
  const k6Options: K6Options = {
    scenarios,
    thresholds: thresholds(scenario, expectedIterations(scenario, options), options),
    summaryTrendStats: [...TREND_STATS],
  };
  return {
    options: k6Options,
    workload: {
      scenario: scenario.name,
      target: scenario.target,
      routes: scenario.routes,
      modes: scenario.modes,
      tasks: taskSizes(scenario, options.traceRows),
      ...tenantWorkloads(scenario),
      ...outputLimits(scenario, options.outputLimitOf),
      asyncPollIntervalMs: options.asyncPollIntervalMs ?? 250,
      asyncTimeoutMs: options.asyncTimeoutMs ?? 60_000,
    },
  };
}

/** Returns `{ tenants }` with each tenant that sets its own tasks or modes, or `{}` for none. */
function tenantWorkloads(scenario: ScenarioSpec): { tenants?: Record<string, K6TenantWorkload> } {
  const tenants: Record<string, K6TenantWorkload> = {};
  for (const { tenantId, tasks, modes } of scenario.tenants) {
    if (tasks === undefined && modes === undefined) continue;
    tenants[tenantId] = {
      ...(modes === undefined ? {} : { modes }),
      ...(tasks === undefined ? {} : { tasks }),
    };
  }
  return Object.keys(tenants).length === 0 ? {} : { tenants };
}

/**
 * Returns `{ outputLimits }` with the known output limit of each of the scenario's routes, or
 * `{}` when no route has one.
 * @throws TypeError when a limit is not a positive integer.
 */
function outputLimits(
  scenario: ScenarioSpec,
  outputLimitOf: CompileK6Options['outputLimitOf'],
): { outputLimits?: Record<string, number> } {
  const limits: Record<string, number> = {};
  for (const { route } of scenario.routes) {
    const limit = outputLimitOf?.(route);
    if (limit === undefined) continue;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new TypeError(
        `output limit of route ${route} is ${limit}; expected a positive integer of tokens`,
      );
    }
    limits[route] = limit;
  }
  return Object.keys(limits).length === 0 ? {} : { outputLimits: limits };
}

/** k6 scenario names allow letters, digits, `_` and `-`. */
function scenarioKey(tenantId: string): string {
  return tenantId.replace(/[^A-Za-z0-9_-]/g, '_');
}

function tenantScenario(
  scenario: ScenarioSpec,
  tenant: TenantShare,
  share: number,
  options: CompileK6Options,
): K6Scenario {
  const common = {
    timeUnit: TIME_UNIT,
    ...vus(scenario, share, options),
    exec: 'task',
    env: { SCALEGATE_TENANT: tenant.tenantId },
    tags: { tenant: tenant.tenantId },
    gracefulStop: '10s',
  };
  const arrival = scenario.arrival;
  if (arrival.kind === 'constant') {
    const rate = perMinute(arrival.ratePerSec * share);
    return {
      executor: 'constant-arrival-rate',
      rate,
      duration: `${scenario.durationSec}s`,
      ...common,
    };
  }
  const bucketSec = options.traceBucketSec ?? 10;
  const { startRatePerSec, segments } = rateSegments(
    arrival,
    scenario.durationSec,
    options.traceRows,
    bucketSec,
  );
  return {
    executor: 'ramping-arrival-rate',
    startRate: perMinute(startRatePerSec * share),
    stages: segments.map((segment) => ({
      duration: `${segment.durationSec}s`,
      target: perMinute(segment.toRatePerSec * share),
    })),
    ...common,
  };
}

function perMinute(ratePerSec: number): number {
  return Math.round(ratePerSec * 60);
}

/** Pre-allocates VUs for the peak rate by Little's law (rate × expected latency). */
function vus(scenario: ScenarioSpec, share: number, options: CompileK6Options) {
  const peak = peakOf(scenario, options) * share;
  const preAllocatedVUs = Math.max(1, Math.ceil(peak * (options.expectedLatencySec ?? 5)));
  return { preAllocatedVUs, maxVUs: preAllocatedVUs * (options.maxVUsFactor ?? 4) };
}

function peakOf(scenario: ScenarioSpec, options: CompileK6Options): number {
  const arrival = scenario.arrival;
  if (arrival.kind !== 'trace') return peakRate(arrival);
  const { segments } = rateSegments(
    arrival,
    scenario.durationSec,
    options.traceRows,
    options.traceBucketSec ?? 10,
  );
  return Math.max(0, ...segments.map((segment) => segment.toRatePerSec));
}

function expectedIterations(scenario: ScenarioSpec, options: CompileK6Options): number {
  const arrival = scenario.arrival;
  if (arrival.kind === 'constant') return arrival.ratePerSec * scenario.durationSec;
  const bucketSec = options.traceBucketSec ?? 10;
  const { startRatePerSec, segments } = rateSegments(
    arrival,
    scenario.durationSec,
    options.traceRows,
    bucketSec,
  );
  return integrate(startRatePerSec, segments);
}

function integrate(startRatePerSec: number, segments: readonly RateSegment[]): number {
  let from = startRatePerSec;
  let total = 0;
  for (const segment of segments) {
    total += ((from + segment.toRatePerSec) / 2) * segment.durationSec;
    from = segment.toRatePerSec;
  }
  return total;
}

function thresholds(
  scenario: ScenarioSpec,
  iterations: number,
  options: CompileK6Options,
): Record<string, string[]> {
  const slo = scenario.slo;
  const allowedDrops = Math.floor(iterations * (options.maxDroppedFraction ?? 0.01));
  const out: Record<string, string[]> = {
    dropped_iterations: [`count<=${allowedDrops}`],
    checks: [`rate>=${slo.successRate ?? 0.99}`],
  };
  addLimits(out, '', slo);
  for (const tenant of scenario.tenants) {
    // A threshold on a tagged sub-metric is what makes k6 report it in the summary,
    // so every tenant gets one; `max>=0` and `rate>=0` always hold.
    const limits = slo.perTenant?.[tenant.tenantId] ?? {};
    addLimits(out, `{tenant:${tenant.tenantId}}`, limits);
    out[`${K6_METRICS.latency}{tenant:${tenant.tenantId}}`] ??= ['max>=0'];
    out[`${K6_METRICS.success}{tenant:${tenant.tenantId}}`] ??= ['rate>=0'];
  }
  return out;
}

function addLimits(out: Record<string, string[]>, tag: string, limits: SloLimits): void {
  const latency: string[] = [];
  if (limits.p50LatencyMs !== undefined) latency.push(`med<=${limits.p50LatencyMs}`);
  if (limits.p95LatencyMs !== undefined) latency.push(`p(95)<=${limits.p95LatencyMs}`);
  if (limits.p99LatencyMs !== undefined) latency.push(`p(99)<=${limits.p99LatencyMs}`);
  if (latency.length > 0) out[`${K6_METRICS.latency}${tag}`] = latency;
  if (limits.successRate !== undefined) {
    out[`${K6_METRICS.success}${tag}`] = [`rate>=${limits.successRate}`];
  }
}

function taskSizes(
  scenario: ScenarioSpec,
  traceRows: readonly TraceRow[] | undefined,
): K6TaskSizes {
  if (scenario.tasks.source === 'distribution')
    return { source: 'distribution', kinds: scenario.tasks.kinds };
  const rows = (traceRows ?? []).slice(0, TRACE_SAMPLE_LIMIT);
  return {
    source: 'samples',
    samples: rows.map((row) => ({
      inputTokens: row.contextTokens,
      outputTokens: Math.max(1, row.generatedTokens),
    })),
  };
}
