import {
  addBackpressureOptions,
  type BackpressureCommandOptions,
  backpressureLimits,
  formatBackpressure,
  hasBackpressureOptions,
} from '../backpressure-options.js';
import { describeFailure } from '../command-errors.js';
import { exitAfterOutput, exitOnLaterInterrupt, signalExitCode } from '../exit.js';
import {
  checkScenarioRoutes,
  platformWarningsFor,
  readPlatformFiles,
} from '../load-platform-files.js';
import { loadCommandTrace } from '../load-trace.js';
import { commandLogger } from '../logger.js';
import { describeStartInterrupt, disarmStartInterrupt } from '../start-interrupt.js';
import { readFile, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { SCENARIOS } from '../../../scenarios/index.js';
import { MAX_TIMER_MS } from '../../faults/limits.js';
import { abortOnInterrupt, startInterruptReason } from '../../harness/drill/interrupt.js';
import { requireK6, runK6 } from '../../harness/k6/run.js';
import { runLoad } from '../../harness/load/engine.js';
import {
  isLoadInterruptedError,
  isLoadOutputValidationError,
  LoadInterruptedError,
} from '../../harness/load/errors.js';
import { formatProgress, formatSummary, interruptedLine } from '../../harness/load/format.js';
import {
  LOAD_OUTPUT_SCHEMA_VERSION,
  type LoadCommandOutput,
  type PlatformSettings,
} from '../../harness/load/output.js';
import type { ProgressSnapshot } from '../../harness/load/recorder.js';
import type { LoadResult, PlatformRun } from '../../harness/load/result.js';
import { evaluateThresholds } from '../../harness/load/thresholds.js';
import { validateLoadOutput } from '../../harness/load/validate-output.js';
import { describeMachine, gitCommit, policyHash } from '../../harness/report/environment.js';
import { findScenario } from '../../harness/scenario/registry.js';
import type { TraceRow } from '../../harness/scenario/trace.js';
import type { ScenarioSpec } from '../../harness/scenario/types.js';
import { validateScenario, validateTarget } from '../../harness/scenario/validate.js';
import {
  formatTopology,
  type Platform,
  parseTopology,
  startPlatform,
  type Topology,
} from '../../platform/runtime.js';
import type { BackpressureLimits } from '../../platform/admission/backpressure.js';
import { loadProviderCatalog } from '../../faults/providers/index.js';
import { DEFAULT_POLICY_PATH, parsePolicyYaml } from '../../platform/router/load-policy.js';
import { checkLoadedFiles } from '../../platform/runtime/loaded-files.js';
import { settledCost } from '../../platform/runtime/settled-cost.js';
import {
  parseExistingFile,
  parseOutputFile,
  parsePositiveInteger,
  MAX_SEED,
  parseSeed,
  parseTopologyOption,
  PRICES_HELP,
  TOPOLOGY_HELP,
} from '../options.js';

interface LoadCommandOptions extends BackpressureCommandOptions {
  scenario: string;
  target?: string;
  engine: 'embedded' | 'k6';
  duration?: number;
  seed: number;
  out?: string;
  maxInFlight?: number;
  drainTimeout?: number;
  platform: boolean;
  topology?: string;
  policy?: string;
  tenants?: string;
  prices?: string;
  faultProxy: boolean;
}

/** Options as commander parses them: `--scenario` may be missing until the action checks it. */
type ParsedLoadOptions = Omit<LoadCommandOptions, 'scenario'> & { scenario?: string };

/**
 * Minimum `--duration`. A shorter run of a shipped scenario may schedule no request, and then
 * every objective fails for lack of samples. NOTE: arrivals are random, so 1 s does not
 * guarantee a request either, but with seed 1 each shipped scenario schedules at least 2.
 */
const MIN_DURATION_SEC = 1;

/**
 * Maximum `--duration`, 24 hours. The engine plans every request of the run in memory before
 * the first send, so a much longer run can outgrow the heap or the maximum array length.
 */
const MAX_DURATION_SEC = 86_400;

export type { LoadCommandOutput } from '../../harness/load/output.js';

/** Exit code of a load that could not run, such as on an invalid option or input file. */
const EXIT_NOT_RUN = 2;

/** Topology of the platform that `--platform` starts when `--topology` is not given. */
const DEFAULT_LOAD_TOPOLOGY = 'workers=24 serverless_burst=enabled';

/** Wall-clock wait after the load for the platform's last tasks to end before its cost is read. */
const SETTLE_LIMIT_MS = 10_000;

/** Plain progress lines are printed every this many progress events when stderr is not a TTY. */
const PLAIN_PROGRESS_EVERY = 5;

/** Registers `scalegate load`. */
export function registerLoadCommand(program: Command): void {
  const command = program
    .command('load')
    .description('Run a workload scenario against a gateway and print a summary.')
    // The action checks --scenario, because commander checks a requiredOption before
    // unknown options, and `load --bogus` would then report the missing --scenario.
    .option('--scenario <name>', `scenario name (required): ${Object.keys(SCENARIOS).join(', ')}`)
    .option('--target <url>', 'gateway base URL (default: the scenario target, 127.0.0.1)')
    .addOption(
      new Option('--engine <engine>', 'load engine')
        .choices(['embedded', 'k6'])
        .default('embedded'),
    )
    .option(
      '--duration <seconds>',
      `run duration in seconds, from ${MIN_DURATION_SEC} to ${MAX_DURATION_SEC} ` +
        "(default: the scenario's)",
      parseDurationSec,
    )
    .option(
      '--seed <n>',
      `seed of the arrival schedule and the traffic mix, from 0 to ${MAX_SEED}`,
      parseSeed,
      1,
    )
    .option(
      '--max-in-flight <n>',
      'outstanding requests above which sends are dropped, and the connections of the ' +
        'HTTP pool (embedded engine; default: 1000)',
      parsePositiveInteger,
    )
    .option(
      '--drain-timeout <seconds>',
      'time after the schedule for outstanding requests to end before they are aborted ' +
        '(embedded engine; default: 10)',
      parseDrainTimeoutSec,
    )
    .option(
      '--platform',
      'start the platform on 127.0.0.1 free ports for this run and target it ' +
        '(in place of --target)',
      false,
    )
    .option(
      '--topology <spec>',
      `with --platform: ${TOPOLOGY_HELP} (default: ${DEFAULT_LOAD_TOPOLOGY})`,
      parseTopologyOption,
    )
    .option(
      '--policy <file>',
      'with --platform: route policy file (default: policies/default.yaml of the scalegate checkout)',
      parseExistingFile,
    )
    .option(
      '--tenants <file>',
      'with --platform: tenants file with hashed API keys and limits (default: ' +
        'fixtures/tenants.yaml of the scalegate checkout); it must admit the key of each ' +
        'tenant the scenario sends as',
      parseExistingFile,
    )
    .option('--prices <file>', `with --platform: ${PRICES_HELP}`, parseExistingFile)
    .option(
      '--no-fault-proxy',
      'with --platform: call the mock providers directly, without the fault proxy relaying bytes',
    )
    .option(
      '--out <file>',
      'write the result as JSON to this file; with --platform it also has the topology and ' +
        'the cost per task',
      parseOutputFile,
    )
    .action(async (parsed: ParsedLoadOptions, command: Command) => {
      const { scenario } = parsed;
      if (scenario === undefined) {
        command.error("error: required option '--scenario <name>' not specified", {
          code: 'commander.missingMandatoryOptionValue',
        });
      }
      const options = { ...parsed, scenario };
      // Until the run's handlers go in, a signal exits at once, as nothing has started yet.
      describeStartInterrupt(
        (signal) =>
          `load interrupted by ${signal} before the run started; no request was sent` +
          unwrittenClause(options.out),
      );
      const logger = commandLogger('scalegate-load', 2);
      const controller = new AbortController();
      let code: number;
      try {
        code = await runLoadCommand(options, controller);
      } catch (error) {
        // The message is meant for the user; the stack goes to the debug log only. An invalid
        // policy prints one problem a line, as `drill` and `platform` print it.
        logger.debug({ err: error }, 'load run failed');
        process.stderr.write(`error: ${describeFailure(error).message}\n`);
        // A run that a signal stopped exits with the signal's code even when it then failed,
        // such as an `--out` file that could not be written, as `drill` and `gate` do.
        code = interruptedExitCode(controller.signal) ?? EXIT_NOT_RUN;
      }
      process.exitCode = code;
      // On Node 20, a signal that comes after the event loop drained, while Node tears down,
      // ends the process by the signal. An explicit exit keeps the handlers of a stopped
      // load in place until the process ends.
      if (controller.signal.aborted) await exitAfterOutput(code);
    });
  addBackpressureOptions(command, 'with --platform: ');
}

/**
 * Runs the command and returns the exit code: 0 pass, 1 objectives failed or run invalid,
 * 128 plus the signal number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP) when a signal
 * stopped it. Once the inputs are checked, the first SIGINT, SIGTERM or SIGHUP aborts
 * `controller`.
 */
async function runLoadCommand(
  options: LoadCommandOptions,
  controller: AbortController,
): Promise<number> {
  if (options.platform && options.target !== undefined) {
    throw new InvalidArgumentError(
      '--platform starts its own gateway; drop --target or --platform',
    );
  }
  if (!options.platform && options.topology !== undefined) {
    throw new InvalidArgumentError(
      '--topology applies to the platform that --platform starts; add --platform or drop it',
    );
  }
  if (!options.platform && options.policy !== undefined) {
    throw new InvalidArgumentError(
      '--policy applies to the platform that --platform starts; add --platform or drop it',
    );
  }
  if (!options.platform && options.tenants !== undefined) {
    throw new InvalidArgumentError(
      '--tenants applies to the platform that --platform starts; add --platform or drop it',
    );
  }
  if (!options.platform && options.prices !== undefined) {
    throw new InvalidArgumentError(
      '--prices applies to the platform that --platform starts; add --platform or drop it',
    );
  }
  if (!options.platform && !options.faultProxy) {
    throw new InvalidArgumentError(
      '--no-fault-proxy applies to the platform that --platform starts; add --platform or drop it',
    );
  }
  if (!options.platform && hasBackpressureOptions(options)) {
    throw new InvalidArgumentError(
      '--max-queue-depth, --max-queue-age-ms and --shed-watermarks apply to the platform that --platform starts; add --platform or drop them',
    );
  }
  // A k6 run caps its virtual users and drains for a fixed 10 s, both set by the k6 compiler,
  // so these options would be ignored while --out still recorded them as the run's settings.
  if (options.engine === 'k6' && options.maxInFlight !== undefined) {
    throw new InvalidArgumentError(
      '--max-in-flight applies to the embedded engine only; drop it or run with --engine embedded',
    );
  }
  if (options.engine === 'k6' && options.drainTimeout !== undefined) {
    throw new InvalidArgumentError(
      '--drain-timeout applies to the embedded engine only; drop it or run with --engine embedded',
    );
  }
  // Inputs that need no gateway are checked before a platform starts, which takes seconds.
  if (options.target !== undefined) validateTarget('--target', options.target);
  const scenario = validateScenario(
    withOverrides(findScenario(SCENARIOS, options.scenario), options),
  );
  if (options.engine === 'k6') await requireK6();
  // Read now, so a missing or empty trace fails before a platform starts or a target is probed.
  const traceRows = await loadCommandTrace(scenario, options.duration);
  // The first SIGINT, SIGTERM or SIGHUP stops the load; the summary, `--out` and the platform's
  // cleanup still run. Later signals are ignored until then, and exit with the same code
  // after it.
  const dispose = abortOnInterrupt(controller, (signal) => new LoadInterruptedError(signal));
  disarmStartInterrupt();
  let code = EXIT_NOT_RUN;
  try {
    code = await runOnTarget(scenario, options, { signal: controller.signal, traceRows });
    code = interruptedExitCode(controller.signal) ?? code;
    return code;
  } catch (error) {
    // The code a later signal exits with, which the action also returns for this failure.
    code = interruptedExitCode(controller.signal) ?? code;
    throw error;
  } finally {
    // Once a signal stopped the run, a later one exits with the run's code. Without a
    // handler it would end the process by the signal.
    if (controller.signal.aborted) exitOnLaterInterrupt(code);
    dispose();
  }
}

/** Inputs of a run besides the scenario and the options. */
interface RunInputs {
  /** Aborted by the first SIGINT, SIGTERM or SIGHUP. */
  signal: AbortSignal;
  /** Rows of a trace-replay scenario, read before the run; undefined for other arrivals. */
  traceRows: readonly TraceRow[] | undefined;
  /** With `--platform`, the started platform's output limit of each route. */
  outputLimitOf?: (route: string) => number | undefined;
}

/** Runs against `--target`, or against a platform the command starts and then stops. */
async function runOnTarget(
  scenario: ScenarioSpec,
  options: LoadCommandOptions,
  inputs: RunInputs,
): Promise<number> {
  if (!options.platform) return runAgainst(scenario, options, inputs);
  const signal = inputs.signal;
  const topology = parseTopology(options.topology ?? DEFAULT_LOAD_TOPOLOGY);
  // Read before the platform loads the file, so an edit during the run cannot change the hash.
  const policyText = await readFile(options.policy ?? DEFAULT_POLICY_PATH, 'utf8');
  const policyFile = options.policy ?? relative(process.cwd(), DEFAULT_POLICY_PATH);
  // A policy with problems is left to the platform's start, which lists each with its line.
  if (await isValidPolicy(policyText, policyFile)) {
    checkScenarioRoutes(scenario, policyText, policyFile);
  }
  const files = await readPlatformFiles(scenario, {
    tenants: options.tenants,
    prices: options.prices,
  });
  const backpressure = backpressureLimits(options);
  let platform: Platform;
  try {
    platform = await startPlatform({
      topology,
      seed: options.seed,
      providerProcess: 'child',
      faultProxy: options.faultProxy,
      policyPath: options.policy,
      tenantsPath: options.tenants,
      pricesPath: options.prices,
      backpressure,
    });
  } catch (error) {
    const reason = await startInterruptReason(error, signal);
    if (!isLoadInterruptedError(reason)) throw error;
    return reportStartInterrupted(reason, options.out);
  }
  const settings: PlatformSettings = {
    topology: formatTopology(topology),
    policyPath: options.policy ?? relative(process.cwd(), DEFAULT_POLICY_PATH),
    policyHash: policyHash(policyText),
    faultProxy: options.faultProxy,
    backpressure,
    drivers: platform.keyPrefix === undefined ? 'memory' : 'redis',
    pricesPath: files.prices.path,
    pricesHash: files.prices.sha256,
    pricesEffectiveDate: files.prices.effectiveDate,
    tenantsPath: files.tenants.path,
    tenantsHash: files.tenants.sha256,
  };
  try {
    // A signal during the start stops the command before the load sends anything, as in a
    // drill, so no summary of an empty run is printed and no output is written.
    const reason: unknown = signal.reason;
    if (isLoadInterruptedError(reason)) return reportStartInterrupted(reason, options.out);
    // The platform reads the files again, so an edit since readPlatformFiles or the policy's
    // read would leave `--out` naming other content than the platform runs with.
    checkLoadedFiles(platform.files, {
      tenantsSha256: files.tenants.sha256,
      pricesSha256: files.prices.sha256,
      policySha256: settings.policyHash,
    });
    process.stderr.write(`${startedLine(options, platform, backpressure)}\n`);
    for (const warning of platformWarningsFor(scenario, platform, options.tenants)) {
      process.stderr.write(`warning: ${warning}\n`);
    }
    const read = () => platformRunOf(platform, topology, signal);
    // The cost per task bills the worker pool from the load's start, not the platform's.
    platform.startWorkerPoolBill();
    const platformInputs = {
      ...inputs,
      outputLimitOf: (route: string) => platform.maxOutputTokens(route),
    };
    return await runAgainst(
      { ...scenario, target: platform.urls.gateway },
      options,
      platformInputs,
      { settings, read },
    );
  } finally {
    // After an interrupt, tasks still running fail at once instead of holding the exit.
    await platform.stop({ purge: true, ...(signal.aborted ? { drainTimeoutMs: 0 } : {}) });
  }
}

/**
 * Writes the `error:` line of a load that a signal stopped while its platform was starting,
 * and returns the exit code, 128 plus the signal number.
 */
function reportStartInterrupted(interrupt: LoadInterruptedError, out: string | undefined): number {
  process.stderr.write(
    `error: load ${interrupt.message} while the platform was starting; no request was sent${unwrittenClause(out)}\n`,
  );
  return signalExitCode(interrupt.signalName);
}

/** Returns `, and <out> was not written` for a `--out` file, or '' without one. */
function unwrittenClause(out: string | undefined): string {
  return out === undefined ? '' : `, and ${out} was not written`;
}

/**
 * Returns the line that names the started platform: its topology, the policy, tenants file,
 * price table and backpressure limits when options changed them, and Redis when REDIS_URL put
 * its state there.
 */
function startedLine(
  options: LoadCommandOptions,
  platform: Platform,
  backpressure: BackpressureLimits,
): string {
  const policy = options.policy === undefined ? '' : ` with policy ${options.policy}`;
  const tenants = options.tenants === undefined ? '' : ` with tenants ${options.tenants}`;
  const prices = options.prices === undefined ? '' : ` with prices ${options.prices}`;
  const limits = hasBackpressureOptions(options)
    ? ` with backpressure ${formatBackpressure(backpressure)}`
    : '';
  const drivers = platform.keyPrefix === undefined ? '' : ' on Redis';
  return `platform ${formatTopology(platform.topology)}${policy}${tenants}${prices}${limits}${drivers} at ${platform.urls.gateway}`;
}

/** Returns the signal that interrupted the run, or undefined when none did. */
function interruptedBy(signal: AbortSignal): NodeJS.Signals | undefined {
  const reason: unknown = signal.reason;
  return isLoadInterruptedError(reason) ? reason.signalName : undefined;
}

/**
 * Returns 128 plus the number of the signal that interrupted the run (130 for SIGINT, 143
 * for SIGTERM, 129 for SIGHUP), or undefined when none did.
 */
function interruptedExitCode(signal: AbortSignal): number | undefined {
  const interrupted = interruptedBy(signal);
  return interrupted === undefined ? undefined : signalExitCode(interrupted);
}

/** The platform a run started: its settings, and a reader of its topology and cost. */
interface StartedPlatform {
  settings: PlatformSettings;
  read: () => Promise<PlatformRun>;
}

/**
 * Runs the scenario, prints the summary and writes `--out`. `started` is given when the
 * command started the platform, whose settings, topology and cost then join the output.
 */
async function runAgainst(
  scenario: ScenarioSpec,
  options: LoadCommandOptions,
  inputs: RunInputs,
  started?: StartedPlatform,
): Promise<number> {
  const { signal, traceRows, outputLimitOf } = inputs;
  const result =
    options.engine === 'k6'
      ? await runK6(scenario, {
          signal,
          ...(traceRows === undefined ? {} : { traceRows }),
          ...(outputLimitOf === undefined ? {} : { outputLimitOf }),
        })
      : await runEmbedded(scenario, options, inputs);
  const platform = await started?.read();
  const verdict = evaluateThresholds(result, scenario.slo);
  const interrupted = interruptedBy(signal);
  const lines = formatSummary(result, verdict, platform);
  if (interrupted !== undefined) lines.unshift(interruptedLine(interrupted, result.health.valid));
  process.stdout.write(`${lines.join('\n')}\n`);
  if (options.out !== undefined) {
    const output: LoadCommandOutput = {
      schemaVersion: LOAD_OUTPUT_SCHEMA_VERSION,
      environment: { commit: await gitCommit(), machine: describeMachine() },
      settings: {
        scenario: scenario.name,
        engine: options.engine,
        seed: options.seed,
        durationSec: scenario.durationSec,
        target: scenario.target,
        maxInFlight: options.maxInFlight ?? null,
        drainTimeoutSec: options.drainTimeout ?? null,
        platform: started?.settings ?? null,
      },
      result,
      verdict,
      ...(platform === undefined ? {} : { platform }),
      ...(interrupted === undefined ? {} : { interrupted: { signal: interrupted } }),
    };
    await writeOutput(options.out, output);
  }
  return verdict.passed && result.health.valid ? 0 : 1;
}

/**
 * Validates the output against reports/schema/load-output.schema.json, then writes it.
 * @throws Error wrapping a {@link LoadOutputValidationError} when the output breaks the
 *   schema, which is a bug in scalegate; nothing is written then. Error wrapping the system
 *   error when the file cannot be written, such as a folder removed during the run.
 */
async function writeOutput(path: string, output: LoadCommandOutput): Promise<void> {
  const text = `${JSON.stringify(output, null, 2)}\n`;
  try {
    // The parsed text is what readers get: JSON turns NaN into null and drops undefined.
    validateLoadOutput(JSON.parse(text));
  } catch (error) {
    if (!isLoadOutputValidationError(error)) throw error;
    throw new Error(`${error.message}; this is a bug in scalegate, and ${path} was not written`, {
      cause: error,
    });
  }
  try {
    await writeFile(path, text);
  } catch (error) {
    // Described as a write failure, because the CLI words a bare file error as an input to read.
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new Error(
      `writing --out ${path} failed (${code}); the summary above has the run's figures, ` +
        'and a rerun with a writable --out path records them as JSON',
      { cause: error },
    );
  }
  process.stdout.write(`[artifact] ${path}\n`);
}

/**
 * Reads the topology and the cost ledger of a platform the command started, once its
 * tasks ended, `SETTLE_LIMIT_MS` ran out or `signal` was aborted.
 */
async function platformRunOf(
  platform: Platform,
  topology: Topology,
  signal: AbortSignal,
): Promise<PlatformRun> {
  const { summary, unsettled } = await settledCost(platform.store, platform.ledger, {
    limitMs: SETTLE_LIMIT_MS,
    signal,
    workerPoolUsd: () => platform.workerPoolUsd(),
  });
  if (unsettled > 0) {
    const when = signal.aborted
      ? 'when the run was interrupted'
      : `${SETTLE_LIMIT_MS / 1000} s after the load ended`;
    process.stderr.write(
      `${unsettled} ${unsettled === 1 ? 'task was' : 'tasks were'} still queued or running ${when}; their cost is missing from the [cost] line\n`,
    );
  }
  const priced = summary.tasks > 0;
  return {
    topology: formatTopology(topology),
    cost: {
      tasks: summary.tasks,
      totalUsd: summary.totalUsd,
      meanUsdPerTask: priced ? summary.meanUsdPerTask : null,
      p95UsdPerTask: priced ? summary.p95UsdPerTask : null,
      unsettledTasks: unsettled,
      workerPoolUsd: summary.workerPoolUsd,
    },
  };
}

function withOverrides(
  scenario: ScenarioSpec,
  options: Pick<LoadCommandOptions, 'target' | 'duration'>,
): ScenarioSpec {
  return {
    ...scenario,
    ...(options.target === undefined ? {} : { target: options.target }),
    ...(options.duration === undefined ? {} : { durationSec: options.duration }),
  };
}

async function runEmbedded(
  scenario: ScenarioSpec,
  options: LoadCommandOptions,
  inputs: RunInputs,
): Promise<LoadResult> {
  const printer = progressPrinter();
  try {
    return await runLoad(scenario, {
      seed: options.seed,
      signal: inputs.signal,
      ...(inputs.traceRows === undefined ? {} : { traceRows: inputs.traceRows }),
      ...(inputs.outputLimitOf === undefined ? {} : { outputLimitOf: inputs.outputLimitOf }),
      ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
      ...(options.drainTimeout === undefined
        ? {}
        : { drainTimeoutMs: options.drainTimeout * 1000 }),
      onProgress: printer.print,
    });
  } finally {
    printer.end();
  }
}

/**
 * Rewrites one status line on a TTY; otherwise prints every fifth snapshot and the final
 * `done` snapshot, whose counts match the summary, as plain lines.
 */
function progressPrinter(): { print: (progress: ProgressSnapshot) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  let events = 0;
  return {
    print: (progress) => {
      events += 1;
      if (tty) process.stderr.write(`\r\x1b[2K${formatProgress(progress)}`);
      else if (events % PLAIN_PROGRESS_EVERY === 0 || progress.phase === 'done')
        process.stderr.write(`${formatProgress(progress)}\n`);
    },
    end: () => {
      if (tty && events > 0) process.stderr.write('\n');
    },
  };
}

/** Parses a run duration in seconds, from MIN_DURATION_SEC to MAX_DURATION_SEC. */
function parseDurationSec(value: string): number {
  const parsed = Number(value);
  // NaN fails both comparisons, and an empty value parses as 0.
  if (!(parsed >= MIN_DURATION_SEC && parsed <= MAX_DURATION_SEC)) {
    throw new InvalidArgumentError(
      `expected a number of seconds from ${MIN_DURATION_SEC} to ${MAX_DURATION_SEC} (24 hours).`,
    );
  }
  return parsed;
}

/** Parses a drain timeout in seconds, from 0 up to the longest timer Node.js supports. */
function parseDrainTimeoutSec(value: string): number {
  const parsed = Number(value);
  const maxSec = Math.floor(MAX_TIMER_MS / 1000);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > maxSec) {
    throw new InvalidArgumentError(`expected a number of seconds from 0 to ${maxSec}.`);
  }
  return parsed;
}

/** Returns whether `text` is a route policy that the platform's start would accept. */
async function isValidPolicy(text: string, file: string): Promise<boolean> {
  try {
    parsePolicyYaml(text, await loadProviderCatalog(), file);
    return true;
  } catch {
    return false;
  }
}
