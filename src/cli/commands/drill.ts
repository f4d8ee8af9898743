import { commandLogger } from '../logger.js';
import { type Stats, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import { type Command, InvalidArgumentError, Option } from 'commander';

import { DRILLS } from '../../../chaos/index.js';
import { SCENARIOS } from '../../../scenarios/index.js';
import { isDrillInterruptedError } from '../../harness/drill/errors.js';
import { abortOnInterrupt } from '../../harness/drill/interrupt.js';
import { type BasePolicy, basePolicy } from '../../harness/drill/policy-change.js';
import { runDrillOnPlatform } from '../../harness/drill/run-on-platform.js';
import type { Report } from '../../harness/report/types.js';
import {
  addBackpressureOptions,
  type BackpressureCommandOptions,
  backpressureLimits,
} from '../backpressure-options.js';
import { describeFailure, UsageError } from '../command-errors.js';
import { isPolicyValidationError } from '../../platform/router/policy-errors.js';
import { decodePolicyText } from '../../platform/router/policy-text.js';
import { DrillProgress, type PolicyComparison, summaryLines } from '../drill-output.js';
import { exitAfterOutput, exitOnLaterInterrupt } from '../exit.js';
import { disarmStartInterrupt } from '../start-interrupt.js';
import {
  fileOnPath,
  parseExistingFile,
  MAX_SEED,
  parseSeed,
  parseTopologyOption,
  PRICES_HELP,
  TOPOLOGY_HELP,
} from '../options.js';

/**
 * Largest time scale. Above it, 1 ms of timer jitter counts as more than 20
 * simulated ms, a large share of the load generator's 50 ms lag limit.
 */
export const MAX_TIME_SCALE = 20;

/** Runbook that a drill without --policy regenerates when --runbook is left out. */
const DEFAULT_RUNBOOK = 'runbooks/scaling_runbook.md';

/**
 * Exit code of a drill stopped by SIGINT, SIGTERM or SIGHUP, at any stage, as shells report
 * SIGINT.
 */
export const EXIT_INTERRUPTED = 130;

/** Exit code of a drill that could not run, such as on an invalid option or a failed start. */
const EXIT_NOT_RUN = 2;

/** Smallest time scale, at which the 150 s outage drill takes 25 minutes. */
const MIN_TIME_SCALE = 0.1;

interface DrillCommandOptions extends BackpressureCommandOptions {
  drill: string;
  timeScale: number;
  topology: string;
  seed: number;
  policy?: string;
  basePolicy?: string;
  tenants?: string;
  prices?: string;
  reports: string;
  runbook: string;
  /** Reason the runbook stays as it is, whatever the verdict. */
  keepRunbookBecause?: string;
}

/** Help text of a drill's `--tenants`. */
export const DRILL_TENANTS_HELP =
  'tenants file with hashed API keys and limits (default: fixtures/tenants.yaml of the ' +
  'scalegate checkout); it must admit the key in fixtures/demo-keys.yaml of each tenant the ' +
  'drill sends as, its bursting tenant included';

/**
 * Adds `--drill`, `--time-scale`, `--topology` and `--seed`, the settings of a drill run, to
 * `command`. `drillHelp` is the help text of `--drill`.
 */
export function addDrillRunOptions(command: Command, drillHelp: string): Command {
  return command
    .addOption(
      new Option('--drill <name>', drillHelp)
        .choices(Object.keys(DRILLS))
        .default('provider-outage'),
    )
    .option(
      '--time-scale <n>',
      `simulated seconds per wall second, at most ${MAX_TIME_SCALE}; a scale above 1 needs spare CPU`,
      parseTimeScale,
      1,
    )
    .option(
      '--topology <spec>',
      TOPOLOGY_HELP,
      parseTopologyOption,
      'workers=24 serverless_burst=enabled',
    )
    .option(
      '--seed <n>',
      `seed of the load schedule and the mock providers, from 0 to ${MAX_SEED}`,
      parseSeed,
      1,
    );
}

/** Registers `scalegate drill`. */
export function registerDrillCommand(program: Command): void {
  const command = addDrillRunOptions(program.command('drill'), 'drill to run')
    .description(
      'Start the platform on 127.0.0.1, run a chaos drill against it, write the report and the runbook.',
    )
    .option(
      '--policy <file>',
      'route policy file (default: policies/default.yaml of the scalegate checkout)',
      parseExistingFile,
    )
    .option(
      '--base-policy <file>',
      'policy file that --policy changes, such as the base branch copy of policies/default.yaml; ' +
        'the summary then lists the changes and those the drill did not exercise',
      parseExistingFile,
    )
    .option('--tenants <file>', DRILL_TENANTS_HELP, parseExistingFile)
    .option('--prices <file>', PRICES_HELP, parseExistingFile)
    .option(
      '--reports <dir>',
      'folder that receives <run-id>/report.json, summary.md and charts',
      'reports',
    )
    .addOption(
      new Option(
        '--runbook <file>',
        'runbook file to regenerate from the report; a drill with --policy writes a runbook ' +
          'only to a path given here',
      ).default(DEFAULT_RUNBOOK, `${DEFAULT_RUNBOOK}, but none with --policy`),
    )
    .action(async (options: DrillCommandOptions, command: Command) => {
      const logger = commandLogger('scalegate-drill', 2, process.env.LOG_LEVEL ?? 'info');
      // The handlers go in first, so a signal while the platform starts also stops the drill.
      const controller = new AbortController();
      const dispose = abortOnInterrupt(controller);
      disarmStartInterrupt();
      let code = EXIT_NOT_RUN;
      try {
        checkOutputPaths(options);
        // A signal during the run marks the report aborted, which gives 130. One after the
        // run ended, while the platform stops, leaves the written report's verdict.
        const keepRunbookBecause = keepRunbookReason(
          options.policy,
          command.getOptionValueSource('runbook'),
        );
        code = await runDrillCommand({ ...options, keepRunbookBecause }, controller.signal);
      } catch (error) {
        // The one-line message below is what a user needs; the stack is for LOG_LEVEL=debug.
        logger.debug({ err: error }, 'drill failed');
        process.stderr.write(`error: ${failureMessage(error)}\n`);
        // Exit code 1 means the drill deviated, so a failure to run exits 2, or 130 after a signal.
        code = controller.signal.aborted ? EXIT_INTERRUPTED : EXIT_NOT_RUN;
      } finally {
        // Once a signal stopped the drill, a later one exits with the drill's code. Without a
        // handler it would end the process by the signal.
        if (controller.signal.aborted) exitOnLaterInterrupt(code);
        dispose();
      }
      process.exitCode = code;
      // On Node 20, a signal that comes after the event loop drained, while Node tears down,
      // ends the process by the signal. An explicit exit keeps the handlers in place.
      if (controller.signal.aborted) await exitAfterOutput(code);
    });
  addBackpressureOptions(command);
}

/**
 * Runs the drill and returns the exit code: 0 passed, 1 deviated, 3 aborted, 4 inconclusive,
 * 130 interrupted.
 */
async function runDrillCommand(options: DrillCommandOptions, signal: AbortSignal): Promise<number> {
  const spec = DRILLS[options.drill];
  if (spec === undefined) {
    throw new InvalidArgumentError(
      `unknown drill ${options.drill}; known: ${Object.keys(DRILLS).join(', ')}`,
    );
  }
  // Read before the drill, so a base policy that cannot be compared fails in a second.
  const base =
    options.basePolicy === undefined ? undefined : await readBasePolicy(options.basePolicy);
  const progress = new DrillProgress(process.stderr);
  try {
    const run = await runDrillOnPlatform({
      spec,
      scenarios: SCENARIOS,
      timeScale: options.timeScale,
      topology: options.topology,
      seed: options.seed,
      policyPath: options.policy,
      tenantsPath: options.tenants,
      pricesPath: options.prices,
      backpressure: backpressureLimits(options),
      reportsDir: options.reports,
      runbookPath: options.runbook,
      keepRunbookBecause: options.keepRunbookBecause,
      basePolicy: base,
      signal,
      onEvent: progress.onEvent,
    });
    progress.finish();
    const change = run.report.policyChange;
    const comparison: PolicyComparison | undefined =
      change === undefined
        ? undefined
        : { basePath: change.basePolicyPath, changes: change.changes };
    const summary = summaryLines(
      run.report,
      run.runbook,
      run.written.runDir,
      comparison,
      run.taskCounts,
    );
    process.stdout.write(`${summary.join('\n')}\n`);
    return drillExitCode(run.report);
  } finally {
    progress.finish();
  }
}

/**
 * Reads a base policy as YAML, with anchors and merge keys resolved. It is not validated,
 * because a policy that the change fixes may fail checks that the change adds.
 * @throws UsageError naming the file when it is not UTF-8 YAML or not a map.
 */
export async function readBasePolicy(path: string): Promise<BasePolicy> {
  try {
    const bytes = await readFile(path);
    return basePolicy(path, bytes, decodePolicyText(bytes, path));
  } catch (error) {
    if (!isPolicyValidationError(error)) throw error;
    const problem = error.message.split('\n')[1]?.trim() ?? error.message;
    throw new UsageError(
      `--base-policy ${path} cannot be read as a policy: ${problem}; pass the policy file the change starts from`,
    );
  }
}

/**
 * Returns the text of the `error:` line. The runner raises the interrupt itself only when the
 * signal came before the load started, such as while the platform was starting.
 */
export function failureMessage(error: unknown): string {
  if (isDrillInterruptedError(error)) {
    const outcome = 'no fault was applied and no report was written';
    return `${error.message} before the load started; ${outcome}`;
  }
  return describeFailure(error).message;
}

/**
 * Returns why a drill must leave the default runbook alone: a trial policy given with
 * --policy must not replace the committed runbook unless --runbook names where to write.
 */
export function keepRunbookReason(
  policy: string | undefined,
  runbookSource: string | undefined,
): string | undefined {
  if (policy === undefined || runbookSource !== 'default') return undefined;
  return 'a drill of a --policy file does not write the default runbook; pass --runbook FILE to write one';
}

/** Exit code of a drill whose load generator fell behind, so its numbers are not evidence. */
const EXIT_INCONCLUSIVE = 4;

/** Returns the exit code of a finished drill's report, as runDrillCommand documents. */
export function drillExitCode(report: Report): number {
  const aborted = report.drill?.aborted;
  if (aborted?.reason === 'signal') return EXIT_INTERRUPTED;
  if (aborted !== undefined && aborted !== null) return 3;
  if (report.verdict.status === 'inconclusive') return EXIT_INCONCLUSIVE;
  return report.verdict.status === 'passed' ? 0 : 1;
}

/** Parses `--time-scale`. */
export function parseTimeScale(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !(parsed >= MIN_TIME_SCALE && parsed <= MAX_TIME_SCALE)) {
    throw new InvalidArgumentError(
      `expected a number from ${MIN_TIME_SCALE} to ${MAX_TIME_SCALE}; 1 runs the drill in real time.`,
    );
  }
  return parsed;
}

/**
 * Rejects output paths the drill could not write, before the drill runs: an empty
 * `--reports` or `--runbook`, a `--reports` that is a file, or a `--runbook` that is a folder.
 * @throws UsageError naming the option.
 */
export function checkOutputPaths(options: { reports: string; runbook: string }): void {
  // An empty path passes the checks below, because nothing is there. An empty --reports would
  // put the run's folder in the current folder, and an empty --runbook would fail to write
  // only after the whole drill. A path of spaces would name a folder or file of spaces.
  if (options.reports.trim() === '') {
    throw new UsageError('--reports is empty; pass a folder, or leave --reports out for reports');
  }
  if (options.runbook.trim() === '') {
    throw new UsageError(
      `--runbook is empty; pass the path of the runbook file, or leave --runbook out for ${DEFAULT_RUNBOOK}`,
    );
  }
  if (statOption('--reports', options.reports)?.isDirectory() === false) {
    throw new UsageError(
      `--reports ${options.reports} is a file; pass a folder, which the drill creates when missing`,
    );
  }
  if (statOption('--runbook', options.runbook)?.isDirectory() === true) {
    throw new UsageError(
      `--runbook ${options.runbook} is a folder; pass the path of the runbook file`,
    );
  }
}

/**
 * Returns the stats of an option's path, or undefined when nothing is there.
 * @throws UsageError naming the option when a folder on the path is a file.
 */
export function statOption(option: string, path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    throw new UsageError(
      `${option} ${path}: ${fileOnPath(path)} is a file, not a folder; pass a path inside a folder`,
    );
  }
}
