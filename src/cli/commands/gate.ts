import { join, relative } from 'node:path';

import { type Command, InvalidArgumentError } from 'commander';

import { DRILLS } from '../../../chaos/index.js';
import { SCENARIOS } from '../../../scenarios/index.js';
import { abortOnInterrupt } from '../../harness/drill/interrupt.js';
import { compareSummaryLines } from '../../harness/gate/comment.js';
import { GATE_FOLDER_MARKER, prepareGateFolder } from '../../harness/gate/folder.js';
import { type PolicyGateResult, runPolicyGate } from '../../harness/gate/run.js';
import { DEFAULT_POLICY_PATH } from '../../platform/router/load-policy.js';
import {
  addBackpressureOptions,
  type BackpressureCommandOptions,
  backpressureLimits,
} from '../backpressure-options.js';
import { UsageError } from '../command-errors.js';
import { DrillProgress, summaryLines } from '../drill-output.js';
import { exitAfterOutput, exitOnLaterInterrupt } from '../exit.js';
import { disarmStartInterrupt } from '../start-interrupt.js';
import { commandLogger } from '../logger.js';
import { parseExistingFile, PRICES_HELP } from '../options.js';
import {
  addDrillRunOptions,
  DRILL_TENANTS_HELP,
  drillExitCode,
  EXIT_INTERRUPTED,
  failureMessage,
  readBasePolicy,
  statOption,
} from './drill.js';

/** Exit code of a gate whose PR drill could not run, as `scalegate drill` exits then. */
const EXIT_NOT_RUN = 2;

interface GateCommandOptions extends BackpressureCommandOptions {
  drill: string;
  timeScale: number;
  topology: string;
  seed: number;
  policy?: string;
  basePolicy?: string;
  tenants?: string;
  prices?: string;
  gateDir: string;
}

/** Registers `scalegate gate`. */
export function registerGateCommand(program: Command): void {
  const command = addDrillRunOptions(program.command('gate'), 'drill to run on both policies')
    .description(
      'Drill a route policy and, with --base-policy, the policy it changes first, with the same ' +
        'drill, seed, time scale, tenants file and price table; compare the two runs and write a pull-request comment.',
    )
    .option(
      '--policy <file>',
      'route policy of the pull request (default: policies/default.yaml of the scalegate checkout)',
      parseExistingFile,
    )
    .option(
      '--base-policy <file>',
      'policy file that --policy changes, drilled first; without it only --policy is drilled',
      parseExistingFile,
    )
    .option('--tenants <file>', `${DRILL_TENANTS_HELP}; both drills run on it`, parseExistingFile)
    .option('--prices <file>', `${PRICES_HELP}; both drills run on it`, parseExistingFile)
    .option(
      '--gate-dir <dir>',
      'folder that receives reports/, base-reports/, scaling_runbook.md, comment.md and ' +
        `comparison.json; a folder that contains any of them without the ${GATE_FOLDER_MARKER} ` +
        'file that a gate run writes is rejected',
      'gate',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 when the --policy drill passed; otherwise the code scalegate drill gives ' +
        'for its verdict (1 deviated, 3 aborted, 4 inconclusive, 130 interrupted), and 2 when ' +
        'it could not run. The --base-policy drill never sets the exit code.',
    );
  addBackpressureOptions(command);
  // Excess arguments reach the action, which names the option that takes them.
  command.allowExcessArguments(true);
  command.action(async (options: GateCommandOptions, gate: Command) => {
    const logger = commandLogger('scalegate-gate', 2, process.env.LOG_LEVEL ?? 'info');
    const controller = new AbortController();
    const dispose = abortOnInterrupt(controller);
    disarmStartInterrupt();
    let code = EXIT_NOT_RUN;
    try {
      rejectArguments(gate.args);
      code = await runGateCommand(options, controller.signal);
    } catch (error) {
      logger.debug({ err: error }, 'gate failed');
      process.stderr.write(`error: ${failureMessage(error)}\n`);
      code = controller.signal.aborted ? EXIT_INTERRUPTED : EXIT_NOT_RUN;
    } finally {
      // Once a signal stopped the gate, a later one exits with the gate's code. Without a
      // handler it would end the process by the signal.
      if (controller.signal.aborted) exitOnLaterInterrupt(code);
      dispose();
    }
    process.exitCode = code;
    // On Node 20, a signal that comes after the event loop drained, while Node tears down,
    // ends the process by the signal. An explicit exit keeps the handlers in place.
    if (controller.signal.aborted) await exitAfterOutput(code);
  });
}

/**
 * Rejects positional arguments, such as a policy file given without `--policy`.
 * @throws UsageError naming the arguments and the options that take files.
 */
function rejectArguments(args: readonly string[]): void {
  const [first] = args;
  if (first === undefined) return;
  const noun = args.length === 1 ? 'argument' : 'arguments';
  throw new UsageError(
    `unexpected ${noun} ${args.join(' ')}; scalegate gate takes its files as options, so ` +
      `pass the PR policy as --policy ${first} and the policy it changes as --base-policy FILE`,
  );
}

async function runGateCommand(options: GateCommandOptions, signal: AbortSignal): Promise<number> {
  const spec = DRILLS[options.drill];
  if (spec === undefined) {
    throw new InvalidArgumentError(
      `unknown drill ${options.drill}; known: ${Object.keys(DRILLS).join(', ')}`,
    );
  }
  if (options.gateDir.trim() === '') {
    throw new UsageError(
      '--gate-dir is empty; pass a folder, such as gate, which the gate creates when missing',
    );
  }
  if (statOption('--gate-dir', options.gateDir)?.isDirectory() === false) {
    throw new UsageError(
      `--gate-dir ${options.gateDir} is a file; pass a folder, which the gate creates when missing`,
    );
  }
  await prepareGateFolder(options.gateDir, `--gate-dir ${options.gateDir}`);
  // Read before either drill, so a base policy that cannot be compared fails in a second.
  const base =
    options.basePolicy === undefined ? undefined : await readBasePolicy(options.basePolicy);
  // The checkout's policy, found from any working folder and named relative to it in the comment.
  const policyPath = options.policy ?? relative(process.cwd(), DEFAULT_POLICY_PATH);
  // Each drill gets its own progress printer, because each drill's clock starts at 0.
  let progress = new DrillProgress(process.stderr);
  try {
    const result = await runPolicyGate({
      spec,
      scenarios: SCENARIOS,
      timeScale: options.timeScale,
      topology: options.topology,
      seed: options.seed,
      backpressure: backpressureLimits(options),
      tenantsPath: options.tenants,
      pricesPath: options.prices,
      policyPath,
      basePolicy: base,
      gateDir: options.gateDir,
      signal,
      describeError: failureMessage,
      onEvent: (event) => progress.onEvent(event),
      onDrillStart: (side, path) => {
        progress.finish();
        progress = new DrillProgress(process.stderr);
        process.stderr.write(`[gate] drilling the ${side} policy ${path}\n`);
      },
    });
    progress.finish();
    return reportGate(result, options.gateDir, signal.aborted);
  } finally {
    progress.finish();
  }
}

/** Prints the gate's outcome and returns its exit code, which the PR drill alone decides. */
function reportGate(result: PolicyGateResult, gateDir: string, interrupted: boolean): number {
  const { base, pr } = result;
  if (pr === null) {
    process.stderr.write(
      'error: the gate was interrupted during the base drill, so the PR policy was not drilled\n',
    );
    return gateExitCode(result, interrupted);
  }
  const compare = compareSummaryLines({ base, pr, comparison: result.comparison });
  const tail = [...compare, `[comment] ${result.commentPath ?? join(gateDir, 'comment.md')}`];
  if (pr.status === 'failed') {
    process.stdout.write(`${tail.join('\n')}\n`);
    process.stderr.write(`error: ${pr.message}\n`);
    return gateExitCode(result, interrupted);
  }
  const { report, runbook, written } = pr.run;
  const change = report.policyChange;
  const comparison =
    change === undefined ? undefined : { basePath: change.basePolicyPath, changes: change.changes };
  const lines = summaryLines(report, runbook, written.runDir, comparison, pr.run.taskCounts);
  if (base?.status === 'ran') {
    const baseReport = base.run.report;
    lines.push(
      `[base] ${base.policyPath} verdict=${baseReport.verdict.status} ` +
        `report=${base.run.written.runDir}/summary.md`,
    );
  }
  process.stdout.write(`${[...lines, ...tail].join('\n')}\n`);
  return gateExitCode(result, interrupted);
}

/**
 * Returns the gate's exit code, which the PR drill alone decides: the code `scalegate drill`
 * gives its report, 2 when it could not run, and 130 when a signal stopped the gate.
 */
export function gateExitCode(result: PolicyGateResult, interrupted: boolean): number {
  const { pr } = result;
  if (pr === null) return EXIT_INTERRUPTED;
  if (pr.status === 'failed') return interrupted ? EXIT_INTERRUPTED : EXIT_NOT_RUN;
  return drillExitCode(pr.run.report);
}
