import { type Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';

import { DRILLS } from '../../../chaos/index.js';
import { SCENARIOS } from '../../../scenarios/index.js';
import type { DrillEvent } from '../../harness/drill/deps.js';
import { abortOnInterrupt } from '../../harness/drill/interrupt.js';
import { runDrillOnPlatform } from '../../harness/drill/run-on-platform.js';
import type { Report } from '../../harness/report/types.js';

interface DrillCommandOptions {
  drill: string;
  timeScale: number;
  topology: string;
  seed: number;
  policy: string;
  reports: string;
  runbook: string;
}

/** Registers `scalegate drill`. */
export function registerDrillCommand(program: Command): void {
  program
    .command('drill')
    .description(
      'Start the platform on 127.0.0.1, run a chaos drill against it, write the report and the runbook.',
    )
    .option('--drill <name>', `drill name: ${Object.keys(DRILLS).join(', ')}`, 'provider-outage')
    .option('--time-scale <n>', 'simulated seconds per wall second', positiveNumber, 1)
    .option(
      '--topology <spec>',
      'workers=<n> serverless_burst=enabled|disabled',
      'workers=24 serverless_burst=enabled',
    )
    .option('--seed <n>', 'seed of the load schedule and the mock providers', integer, 1)
    .option('--policy <file>', 'route policy file', 'policies/default.yaml')
    .option(
      '--reports <dir>',
      'folder that receives <run-id>/report.json, summary.md and charts',
      'reports',
    )
    .option('--runbook <file>', 'runbook to regenerate', 'runbooks/scaling_runbook.md')
    .action(async (options: DrillCommandOptions) => {
      const logger = pino({ name: 'scalegate-drill' }, pino.destination(2));
      try {
        process.exitCode = await runDrillCommand(options);
      } catch (error) {
        logger.error({ err: error }, 'drill failed');
        process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 2;
      }
    });
}

/** Runs the drill and returns the exit code: 0 passed, 1 deviated, 130 interrupted, 3 aborted. */
async function runDrillCommand(options: DrillCommandOptions): Promise<number> {
  const spec = DRILLS[options.drill];
  if (spec === undefined) {
    throw new InvalidArgumentError(
      `unknown drill ${options.drill}; known: ${Object.keys(DRILLS).join(', ')}`,
    );
  }
  const controller = new AbortController();
  const dispose = abortOnInterrupt(controller);
  try {
    const run = await runDrillOnPlatform({
      spec,
      scenarios: SCENARIOS,
      timeScale: options.timeScale,
      topology: options.topology,
      seed: options.seed,
      policyPath: options.policy,
      reportsDir: options.reports,
      runbookPath: options.runbook,
      signal: controller.signal,
      onEvent: printEvent,
    });
    process.stdout.write(
      `${summaryLines(run.report, run.runbookPath, run.written.runDir).join('\n')}\n`,
    );
    return exitCode(run.report);
  } finally {
    dispose();
  }
}

function exitCode(report: Report): number {
  const aborted = report.drill?.aborted;
  if (aborted?.reason === 'signal') return 130;
  if (aborted !== undefined && aborted !== null) return 3;
  return report.verdict.status === 'passed' ? 0 : 1;
}

function printEvent(event: DrillEvent): void {
  const at = 'atS' in event ? `[t=${event.atS.toFixed(1)}s] ` : '';
  switch (event.type) {
    case 'tick': {
      const point = event.point;
      if (point === undefined) return;
      const success = (point.successRate * 100).toFixed(1);
      process.stderr.write(
        `${at}rpm=${point.throughputRpm} success=${success}% p95=${point.p95S}s\n`,
      );
      return;
    }
    case 'fault-applied':
    case 'fault-removed':
      process.stderr.write(`${at}${event.type} ${event.stepId}\n`);
      return;
    case 'fault-failed':
      process.stderr.write(`${at}fault-failed ${event.stepId}: ${String(event.error)}\n`);
      return;
    case 'aborting':
      process.stderr.write(`${at}aborting: ${event.detail}; rolling back\n`);
      return;
    case 'rolled-back':
      process.stderr.write(
        `rollback ${event.clean ? 'clean' : `left ${event.leftovers.join(', ')}`}\n`,
      );
  }
}

function summaryLines(report: Report, runbookPath: string, runDir: string): string[] {
  const lines = [
    `[drill] ${report.drill?.name ?? report.scenario.name} verdict=${report.verdict.status}`,
  ];
  for (const result of report.topologies) {
    const success = (result.successRate * 100).toFixed(1);
    lines.push(`[topology] ${result.topology}`);
    lines.push(
      `[throughput] rpm=${Math.round(result.throughputRpm)} success=${success}% p95=${result.latency.p95S.toFixed(1)}s`,
    );
    for (const pair of result.failovers) {
      lines.push(
        `[failover] ${pair.toProvider.replaceAll('-', '_')}_activations=${pair.activations} from=${pair.fromProvider}`,
      );
    }
    lines.push(`[cost] avg=$${result.cost.meanUsd.toFixed(3)}/task`);
  }
  lines.push(...report.verdict.reasons.map((reason) => `[reason] ${reason}`));
  lines.push(`[artifact] ${runbookPath}`, `[report] ${runDir}/summary.md`);
  return lines;
}

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  }
  return parsed;
}

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) {
    throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  }
  return parsed;
}
