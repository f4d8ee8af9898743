import type { LoadCommandOutput } from '../load/output.js';
import { throughputRpmOf } from '../report/from-load.js';
import type { MachineInfo, Report, TopologyResult } from '../report/types.js';

/** Figures that `scalegate compare` puts side by side, in table order. */
export const METRIC_KEYS = [
  'throughputRpm',
  'successRate',
  'p50LatencyS',
  'p95LatencyS',
  'p99LatencyS',
  'meanUsdPerTask',
  'p95UsdPerTask',
  'workerPoolUsd',
] as const;

export type MetricKey = (typeof METRIC_KEYS)[number];

/** One run read from a load `--out` JSON or a drill report.json, reduced to what compare uses. */
export interface RunRecord {
  /** Path of the file, as given on the command line. */
  file: string;
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
  commit: string;
  machine: MachineInfo;
  /** Reasons the run's figures are suspect, such as a load generator that fell behind. */
  caveats: string[];
  /** Each figure, or null when the run did not measure it, such as cost without a platform. */
  figures: Record<MetricKey, number | null>;
}

/** Reduces a validated load `--out` JSON to a run record. */
export function runFromLoadOutput(file: string, output: LoadCommandOutput): RunRecord {
  const { result, settings, platform } = output;
  const latency = result.latency.overall;
  const cost = platform?.cost;
  return {
    file,
    kind: 'load',
    scenario: settings.scenario,
    durationS: settings.durationSec,
    seed: settings.seed,
    engine: settings.engine,
    timeScale: 1,
    topology: settings.platform?.topology ?? null,
    policyPath: settings.platform?.policyPath ?? null,
    policyHash: settings.platform?.policyHash ?? null,
    commit: output.environment.commit,
    machine: output.environment.machine,
    caveats: loadCaveats(output),
    figures: {
      throughputRpm: throughputRpmOf(result),
      successRate: result.successRate,
      p50LatencyS: latency.p50 / 1000,
      p95LatencyS: latency.p95 / 1000,
      p99LatencyS: latency.p99 / 1000,
      meanUsdPerTask: cost?.meanUsdPerTask ?? null,
      p95UsdPerTask: cost?.p95UsdPerTask ?? null,
      workerPoolUsd: cost?.workerPoolUsd ?? null,
    },
  };
}

function loadCaveats(output: LoadCommandOutput): string[] {
  const caveats: string[] = [];
  if (output.interrupted !== undefined) {
    caveats.push(`the run was stopped by ${output.interrupted.signal}`);
  }
  if (!output.result.health.valid) {
    caveats.push(`the load generator fell behind (${output.result.health.reasons.join('; ')})`);
  }
  const unsettled = output.platform?.cost.unsettledTasks ?? 0;
  if (unsettled > 0) caveats.push(`the cost of ${unsettled} unsettled tasks is missing`);
  return caveats;
}

/** Reduces a validated drill report of one topology to a run record. */
export function runFromReport(file: string, report: Report, topology: TopologyResult): RunRecord {
  const { environment } = report;
  return {
    file,
    kind: 'drill',
    scenario: report.scenario.name,
    durationS: report.scenario.durationS,
    seed: environment.seed,
    engine: environment.engine,
    timeScale: environment.timeScale,
    topology: topology.topology,
    policyPath: environment.policyPath ?? null,
    policyHash: environment.policyHash,
    commit: environment.commit,
    machine: environment.machine,
    caveats: reportCaveats(report, topology),
    figures: {
      throughputRpm: topology.throughputRpm,
      successRate: topology.successRate,
      p50LatencyS: topology.latency.p50S,
      p95LatencyS: topology.latency.p95S,
      p99LatencyS: topology.latency.p99S,
      meanUsdPerTask: topology.cost.meanUsd,
      p95UsdPerTask: topology.cost.p95Usd,
      workerPoolUsd: topology.cost.workerPoolUsd ?? null,
    },
  };
}

function reportCaveats(report: Report, topology: TopologyResult): string[] {
  const caveats: string[] = [];
  if (report.verdict.status === 'aborted') caveats.push('the drill was aborted');
  if (!topology.harness.valid) {
    caveats.push(`the load generator fell behind (${topology.harness.reasons.join('; ')})`);
  }
  const unsettled = topology.cost.unsettledTasks ?? 0;
  if (unsettled > 0) caveats.push(`the cost of ${unsettled} unsettled tasks is missing`);
  return caveats;
}
