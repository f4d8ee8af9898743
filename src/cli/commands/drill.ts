import { statSync } from 'node:fs';

import { type Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';

import { DRILLS } from '../../../chaos/index.js';
import { SCENARIOS } from '../../../scenarios/index.js';
import { abortOnInterrupt } from '../../harness/drill/interrupt.js';
import { runDrillOnPlatform } from '../../harness/drill/run-on-platform.js';
import type { Report } from '../../harness/report/types.js';
import { describeFailure, UsageError } from '../command-errors.js';
import { DrillProgress, summaryLines } from '../drill-output.js';
import { parseExistingFile, parseInteger, parsePositiveNumber } from '../options.js';

/**
 * Largest time scale. Above it, 1 ms of timer jitter counts as more than 20
 * simulated ms, a large share of the load generator's 50 ms lag limit.
 */
const MAX_TIME_SCALE = 20;

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
    .option(
      '--time-scale <n>',
      `simulated seconds per wall second, at most ${MAX_TIME_SCALE}; a scale above 1 needs spare CPU`,
      timeScale,
      1,
    )
    .option(
      '--topology <spec>',
      'workers=<n> serverless_burst=enabled|disabled',
      'workers=24 serverless_burst=enabled',
    )
    .option('--seed <n>', 'seed of the load schedule and the mock providers', parseInteger, 1)
    .option('--policy <file>', 'route policy file', parseExistingFile, 'policies/default.yaml')
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
        checkOutputPaths(options);
        process.exitCode = await runDrillCommand(options);
      } catch (error) {
        // The one-line message below is what a user needs; the stack is for LOG_LEVEL=debug.
        logger.debug({ err: error }, 'drill failed');
        // Exit code 1 means the drill deviated, so every failure to run exits 2.
        process.stderr.write(`error: ${describeFailure(error).message}\n`);
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

function timeScale(value: string): number {
  const parsed = parsePositiveNumber(value);
  if (parsed > MAX_TIME_SCALE) {
    throw new InvalidArgumentError(`expected a number above 0 and at most ${MAX_TIME_SCALE}.`);
  }
  return parsed;
}

/**
 * Rejects output paths the drill could not write, before the drill runs: a
 * `--reports` that is a file, or a `--runbook` that is a folder.
 */
function checkOutputPaths(options: DrillCommandOptions): void {
  if (statSync(options.reports, { throwIfNoEntry: false })?.isDirectory() === false) {
    throw new UsageError(
      `--reports ${options.reports} is a file; pass a folder, which the drill creates when missing`,
    );
  }
  if (statSync(options.runbook, { throwIfNoEntry: false })?.isDirectory() === true) {
    throw new UsageError(
      `--runbook ${options.runbook} is a folder; pass the path of the runbook file`,
    );
  }
}
