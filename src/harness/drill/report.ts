import {
  type Environment,
  type PolicyChangeRecord,
  REPORT_SCHEMA_VERSION,
  type Report,
  type ScenarioSummary,
} from '../report/types.js';
import type { DrillOutcome } from './runner.js';

export interface DrillReportInput {
  outcome: DrillOutcome;
  environment: Environment;
  scenario: ScenarioSummary;
  /** Defaults to `<ISO time of the load start>-<drill name>`, with characters unsafe in paths removed. */
  runId?: string;
  /** Replaces the topology name that the load stream reported. */
  topologyName?: string;
  /** Comparison with a base policy; the report leaves the field out when this is undefined. */
  policyChange?: PolicyChangeRecord | undefined;
}

/** Returns a run id that sorts by time and is safe as a folder name. */
export function drillRunId(startedAt: number, drillName: string): string {
  const stamp = new Date(startedAt)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${drillName}`.replace(/[^A-Za-z0-9._-]/g, '-');
}

/** Assembles the report of a finished or aborted drill; validation happens in writeReport. */
export function buildDrillReport(input: DrillReportInput): Report {
  const { outcome } = input;
  const result =
    input.topologyName === undefined
      ? outcome.result
      : { ...outcome.result, topology: input.topologyName };
  const report: Report = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    runId: input.runId ?? drillRunId(outcome.startedAt, outcome.spec.name),
    createdAt: new Date(outcome.startedAt).toISOString(),
    environment: input.environment,
    scenario: input.scenario,
    verdict: outcome.verdict,
    topologies: [result],
    drill: outcome.journal,
  };
  if (input.policyChange !== undefined) report.policyChange = input.policyChange;
  return report;
}
