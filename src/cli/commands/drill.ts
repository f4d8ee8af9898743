import { type Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';

import { DRILLS } from '../../../chaos/index.js';
import { SCENARIOS } from '../../../scenarios/index.js';
import { abortOnInterrupt } from '../../harness/drill/interrupt.js';
import { runDrillOnPlatform } from '../../harness/drill/run-on-platform.js';
import type { Report } from '../../harness/report/types.js';
import { DrillProgress, summaryLines } from '../drill-output.js';

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
    .addOption(
      new Option('--drill <name>', 'drill to run')
        .choices(Object.keys(DRILLS))
        .default('provider-outage'),
    )
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
      const logger = pino(
        { name: 'scalegate-drill', level: process.env.LOG_LEVEL ?? 'info' },
        pino.destination(2),
      );
      try {
        process.exitCode = await runDrillCommand(options);
      } catch (error) {
        // The one-line message below is what a user needs; the stack is for LOG_LEVEL=debug.
        logger.debug({ err: error }, 'drill failed');
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
  const progress = new DrillProgress(process.stderr);
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
      onEvent: progress.onEvent,
    });
    progress.finish();
    process.stdout.write(
      `${summaryLines(run.report, run.runbookPath, run.written.runDir).join('\n')}\n`,
    );
    return exitCode(run.report);
  } finally {
    progress.finish();
    dispose();
  }
}

function exitCode(report: Report): number {
  const aborted = report.drill?.aborted;
  if (aborted?.reason === 'signal') return 130;
  if (aborted !== undefined && aborted !== null) return 3;
  return report.verdict.status === 'passed' ? 0 : 1;
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
