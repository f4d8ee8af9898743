import {
  type BackpressureLimits,
  DEFAULT_BACKPRESSURE,
  formatBackpressure,
} from '../../platform/admission/backpressure.js';
import { roundUsd } from '../../platform/cost/usd.js';
import type { LoadCommandOutput } from '../load/output.js';
import type { MachineInfo, Report, TopologyResult } from '../report/types.js';
import { loadCaveats, reportCaveats } from './caveats.js';
import { abortedInLoad, abortedInReport } from './lower-bounds.js';
import { offeredRateOfLoad, offeredRateOfReport } from './offered.js';
import {
  completedThroughputOfLoad,
  completedThroughputOfReport,
  type WindowThroughput,
  succeededThroughputOfLoad,
  succeededThroughputOfReport,
} from './succeeded.js';

/** Figures that `scalegate compare` puts side by side, in table order. */
export const METRIC_KEYS = [
  'offeredRpm',
  'throughputRpm',
  'succeededRpm',
  'successRate',
  'p50LatencyS',
  'p95LatencyS',
  'p99LatencyS',
  'meanUsdPerTask',
  'p95UsdPerTask',
  'usdPerSucceeded',
  'workerPoolUsd',
] as const;

export type MetricKey = (typeof METRIC_KEYS)[number];

/**
 * Figures that the scenario, seed and duration set rather than the target, so that runs of
 * one seed give one value and their spread is no noise band.
 */
export const INPUT_METRIC_KEYS: ReadonlySet<MetricKey> = new Set(['offeredRpm']);

/** Figures in US dollars, whose medians are rounded to the picodollar as every USD sum is. */
export const USD_METRIC_KEYS: ReadonlySet<MetricKey> = new Set([
  'meanUsdPerTask',
  'p95UsdPerTask',
  'usdPerSucceeded',
  'workerPoolUsd',
]);

/** One run read from a load `--out` JSON or a drill report.json, reduced to what compare uses. */
export interface RunRecord {
  /** Path of the file, as given on the command line. */
  file: string;
  /**
   * Identity of the run, such as `started at <ISO time> against <target>`. Two files with
   * one identity contain the same run, such as a file and its copy.
   */
  identity: string;
  kind: 'load' | 'drill';
  /** Load scenario name, or the drill name for a drill report. */
  scenario: string;
  durationS: number;
  seed: number;
  engine: 'embedded' | 'k6';
  /** Simulated seconds per wall second; 1 for every load run. */
  timeScale: number;
  /** Null for a load sent to `--target`, which records no topology. */
  topology: string | null;
  policyPath: string | null;
  policyHash: string | null;
  /**
   * Queue limits at which the gateway shed requests, as `formatBackpressure` prints them.
   * Null for a load sent to `--target`. A file written before they were recorded gets the
   * defaults, which every platform used then.
   */
  backpressure: string | null;
  /** Storage of the platform's state, `memory` or `redis`; null when the file lacks it. */
  drivers: 'memory' | 'redis' | null;
  /**
   * Price table and tenants file of the platform, each as its path and sha256. Null for a
   * load sent to `--target`, and for a load output or drill report written before they were
   * recorded.
   */
  prices: RecordedFile | null;
  tenants: RecordedFile | null;
  /** Whether provider calls went through the fault proxy; null for a load sent to `--target`. */
  faultProxy: boolean | null;
  commit: string;
  machine: MachineInfo;
  /** Reasons the run's figures are suspect, such as a load generator that fell behind. */
  caveats: string[];
  /** Requests the load sent, the sample behind the run's rates and percentiles. */
  requestsSent: number;
  /** Each figure, or null when the run did not measure it, such as cost without a platform. */
  figures: Record<MetricKey, number | null>;
  /** Reason each null figure is missing, for figures whose absence needs one, such as `succeededRpm`. */
  unmeasured: Partial<Record<MetricKey, string>>;
  /** Figures that are only lower bounds, such as latency percentiles of a run with aborted requests. */
  lowerBounds: MetricKey[];
}

/** A file that a run's platform read, as a load output or drill report records it. */
export interface RecordedFile {
  path: string;
  sha256: string;
  /** A price table's `effectiveDate`; null for a tenants file, or a run that predates it. */
  effectiveDate: string | null;
}

/** Returns the recorded file, or null when the output lacks its path or hash. */
function recordedFile(
  path: string | undefined,
  sha256: string | undefined,
  effectiveDate?: string,
): RecordedFile | null {
  if (path === undefined || sha256 === undefined) return null;
  return { path, sha256, effectiveDate: effectiveDate ?? null };
}

/** Returns the reason for each throughput figure a run lacks, keyed by the figure. */
function unmeasuredOf(
  offered: WindowThroughput,
  completed: WindowThroughput,
  succeeded: WindowThroughput,
): RunRecord['unmeasured'] {
  const unmeasured: RunRecord['unmeasured'] = {};
  if (offered.rpm === null) unmeasured.offeredRpm = offered.reason;
  if (completed.rpm === null) unmeasured.throughputRpm = completed.reason;
  if (succeeded.rpm === null) unmeasured.succeededRpm = succeeded.reason;
  return unmeasured;
}

/** Cost figures of a run, which a cost ledger that priced no task leaves unmeasured. */
const COST_METRICS: readonly MetricKey[] = ['meanUsdPerTask', 'p95UsdPerTask', 'usdPerSucceeded'];

/** Record of a run's cost ledger: whether it priced a task, and its worker pool bill. */
interface PricedTasks {
  /** Whether the ledger priced a task of the tenants the figures cover. */
  priced: boolean;
  workerPoolUsd: number | null;
}

/**
 * Returns `run` with its cost figures unmeasured when the platform's ledger priced no task, as
 * in a run whose every request was rejected. The ledger then records a mean cost of 0, and a
 * worker pool bill of 0 though the pool ran, because it shares the bill out over tasks only.
 * A cost per succeeded request without a success is unmeasured too. A run without a cost,
 * such as one sent to `--target`, is returned as it is.
 */
function withPricedTasks(
  run: RunRecord,
  cost: PricedTasks | undefined,
  succeeded: number,
): RunRecord {
  if (cost === undefined) return run;
  const figures = { ...run.figures };
  const unmeasured = { ...run.unmeasured };
  if (!cost.priced) {
    for (const metric of COST_METRICS) {
      figures[metric] = null;
      unmeasured[metric] = 'the cost ledger priced no task';
    }
    // A drill's ledger bills the pool when only the bursting tenant's tasks ran on it.
    if (cost.workerPoolUsd === 0) {
      figures.workerPoolUsd = null;
      unmeasured.workerPoolUsd =
        'the cost ledger priced no task, so it shared out no worker pool bill';
    }
  }
  if (succeeded === 0) unmeasured.usdPerSucceeded = 'no request succeeded';
  return { ...run, figures, unmeasured };
}

/** Figures that only requests that ended can give. */
const ENDED_REQUEST_METRICS: readonly MetricKey[] = [
  'successRate',
  'p50LatencyS',
  'p95LatencyS',
  'p99LatencyS',
];

/**
 * Returns `run` with its success rate and latency percentiles unmeasured when no request
 * ended. Load outputs then record a success rate of 0 and percentiles of 0 ms, which would
 * otherwise read as a run that failed every request at once.
 */
function withEndedRequests(run: RunRecord, ended: number): RunRecord {
  if (ended > 0) return run;
  const figures = { ...run.figures };
  const unmeasured = { ...run.unmeasured };
  for (const metric of ENDED_REQUEST_METRICS) {
    figures[metric] = null;
    unmeasured[metric] = 'no request ended in the run';
  }
  const lowerBounds = run.lowerBounds.filter((metric) => !ENDED_REQUEST_METRICS.includes(metric));
  return { ...run, figures, unmeasured, lowerBounds };
}

/** Formats recorded backpressure limits, or the defaults when a file predates them. */
function describeBackpressure(limits: BackpressureLimits | undefined): string {
  return formatBackpressure(limits ?? DEFAULT_BACKPRESSURE);
}

/** Reduces a validated load `--out` JSON to a run record. */
export function runFromLoadOutput(file: string, output: LoadCommandOutput): RunRecord {
  const { result, settings, platform } = output;
  const latency = result.latency.overall;
  const cost = platform?.cost;
  const aborted = abortedInLoad(result);
  const offered = offeredRateOfLoad(result);
  const completed = completedThroughputOfLoad(result);
  const succeeded = succeededThroughputOfLoad(result);
  const run: RunRecord = {
    file,
    identity: `started at ${new Date(result.startedAt).toISOString()} against ${result.target}`,
    kind: 'load',
    scenario: settings.scenario,
    durationS: settings.durationSec,
    seed: settings.seed,
    engine: settings.engine,
    timeScale: 1,
    topology: settings.platform?.topology ?? null,
    policyPath: settings.platform?.policyPath ?? null,
    policyHash: settings.platform?.policyHash ?? null,
    backpressure:
      settings.platform === null ? null : describeBackpressure(settings.platform.backpressure),
    drivers: settings.platform?.drivers ?? null,
    prices: recordedFile(
      settings.platform?.pricesPath,
      settings.platform?.pricesHash,
      settings.platform?.pricesEffectiveDate,
    ),
    tenants: recordedFile(settings.platform?.tenantsPath, settings.platform?.tenantsHash),
    faultProxy: settings.platform?.faultProxy ?? null,
    commit: output.environment.commit,
    machine: output.environment.machine,
    caveats: loadCaveats(output, aborted),
    requestsSent: result.requests.sent,
    figures: {
      offeredRpm: offered.rpm,
      throughputRpm: completed.rpm,
      succeededRpm: succeeded.rpm,
      successRate: result.successRate,
      p50LatencyS: latency.p50 / 1000,
      p95LatencyS: latency.p95 / 1000,
      p99LatencyS: latency.p99 / 1000,
      meanUsdPerTask: cost?.meanUsdPerTask ?? null,
      p95UsdPerTask: cost?.p95UsdPerTask ?? null,
      usdPerSucceeded: costPerSucceeded(cost?.totalUsd, result.requests.succeeded),
      workerPoolUsd: cost?.workerPoolUsd ?? null,
    },
    unmeasured: unmeasuredOf(offered, completed, succeeded),
    lowerBounds: aborted.lowerBounds,
  };
  const priced =
    cost === undefined ? undefined : { priced: cost.tasks > 0, workerPoolUsd: cost.workerPoolUsd };
  return withEndedRequests(withPricedTasks(run, priced, result.requests.succeeded), aborted.ended);
}

/**
 * Returns the run's whole cost over its succeeded requests, which charges the spend of failed
 * tasks to the ones that succeeded, or null without a cost or a success.
 */
function costPerSucceeded(totalUsd: number | undefined, succeeded: number): number | null {
  if (totalUsd === undefined || succeeded === 0) return null;
  return roundUsd(totalUsd / succeeded);
}

/** Reduces a validated drill report of one topology to a run record. */
export function runFromReport(file: string, report: Report, topology: TopologyResult): RunRecord {
  const { environment } = report;
  const aborted = abortedInReport(topology);
  const offered = offeredRateOfReport(report, topology);
  const completed = completedThroughputOfReport(report, topology);
  const succeeded = succeededThroughputOfReport(report, topology);
  // Every request the drill sent ended, so the success rate over them gives the count.
  const succeededRequests = Math.round(topology.successRate * topology.requests);
  const run: RunRecord = {
    file,
    identity: `run id ${report.runId}, created at ${report.createdAt}`,
    kind: 'drill',
    scenario: report.scenario.name,
    durationS: report.scenario.durationS,
    seed: environment.seed,
    engine: environment.engine,
    timeScale: environment.timeScale,
    topology: topology.topology,
    policyPath: environment.policyPath ?? null,
    policyHash: environment.policyHash,
    backpressure: describeBackpressure(environment.backpressure),
    drivers: environment.drivers ?? null,
    // A report written before these files were recorded gives null, and compare names it
    // when another file records them.
    prices: recordedFile(
      environment.pricesPath,
      environment.pricesHash,
      environment.pricesEffectiveDate,
    ),
    tenants: recordedFile(environment.tenantsPath, environment.tenantsHash),
    // A drill sends provider calls through the fault proxy, because it injects faults there.
    faultProxy: true,
    commit: environment.commit,
    machine: environment.machine,
    caveats: reportCaveats(report, topology, aborted),
    requestsSent: topology.requests,
    figures: {
      offeredRpm: offered.rpm,
      throughputRpm: completed.rpm,
      succeededRpm: succeeded.rpm,
      successRate: topology.successRate,
      p50LatencyS: topology.latency.p50S,
      p95LatencyS: topology.latency.p95S,
      p99LatencyS: topology.latency.p99S,
      meanUsdPerTask: topology.cost.meanUsd,
      p95UsdPerTask: topology.cost.p95Usd,
      usdPerSucceeded: costPerSucceeded(topology.cost.totalUsd, succeededRequests),
      workerPoolUsd: topology.cost.workerPoolUsd ?? null,
    },
    unmeasured: unmeasuredOf(offered, completed, succeeded),
    lowerBounds: aborted.lowerBounds,
  };
  // The ledger gives a slice per main-load tenant it priced a task of, so a report without
  // slices and without cost priced none.
  const priced = {
    priced: topology.cost.byTenant.length > 0 || topology.cost.totalUsd > 0,
    workerPoolUsd: topology.cost.workerPoolUsd ?? null,
  };
  // Every request a drill sent ended, so the requests it sent are those that ended.
  return withEndedRequests(withPricedTasks(run, priced, succeededRequests), topology.requests);
}
