import { writeFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { SCENARIOS } from '../../../scenarios/index.js';
import { runK6 } from '../../harness/k6/run.js';
import { runLoad } from '../../harness/load/engine.js';
import { formatProgress, formatSummary } from '../../harness/load/format.js';
import type { ProgressSnapshot } from '../../harness/load/recorder.js';
import type { LoadResult } from '../../harness/load/result.js';
import { evaluateThresholds } from '../../harness/load/thresholds.js';
import { findScenario } from '../../harness/scenario/registry.js';
import { loadTrace } from '../../harness/scenario/trace.js';
import type { ScenarioSpec } from '../../harness/scenario/types.js';

interface LoadCommandOptions {
  scenario: string;
  target?: string;
  engine: 'embedded' | 'k6';
  duration?: number;
  seed: number;
  out?: string;
  maxInFlight?: number;
}

/** Plain progress lines are printed every this many progress events when stderr is not a TTY. */
const PLAIN_PROGRESS_EVERY = 5;

/** Registers `scalegate load`. */
export function registerLoadCommand(program: Command): void {
  program
    .command('load')
    .description('Run a workload scenario against a gateway and print a summary.')
    .requiredOption('--scenario <name>', `scenario name: ${Object.keys(SCENARIOS).join(', ')}`)
    .option('--target <url>', 'gateway base URL (default: the scenario target, 127.0.0.1)')
    .addOption(
      new Option('--engine <engine>', 'load engine')
        .choices(['embedded', 'k6'])
        .default('embedded'),
    )
    .option('--duration <seconds>', 'run duration in seconds', positiveNumber)
    .option('--seed <n>', 'seed of the arrival schedule and the traffic mix', integer, 1)
    .option('--max-in-flight <n>', 'outstanding requests above which sends are dropped', integer)
    .option('--out <file>', 'write the result as JSON to this file')
    .action(async (options: LoadCommandOptions) => {
      const logger = pino({ name: 'scalegate-load' }, pino.destination(2));
      try {
        process.exitCode = await runLoadCommand(options);
      } catch (error) {
        // Typed errors carry a code and a message meant for the user; anything else is a bug.
        if (!hasCode(error)) logger.error({ err: error }, 'load run failed');
        process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 2;
      }
    });
}

/** Runs the command and returns the exit code: 0 pass, 1 objectives failed or run invalid. */
async function runLoadCommand(options: LoadCommandOptions): Promise<number> {
  const scenario = withOverrides(findScenario(SCENARIOS, options.scenario), options);
  const result =
    options.engine === 'k6' ? await runWithK6(scenario) : await runEmbedded(scenario, options);
  const verdict = evaluateThresholds(result, scenario.slo);
  process.stdout.write(`${formatSummary(result, verdict).join('\n')}\n`);
  if (options.out !== undefined) {
    await writeFile(options.out, `${JSON.stringify({ result, verdict }, null, 2)}\n`);
    process.stdout.write(`[artifact] ${options.out}\n`);
  }
  return verdict.passed && result.health.valid ? 0 : 1;
}

function withOverrides(scenario: ScenarioSpec, options: LoadCommandOptions): ScenarioSpec {
  return {
    ...scenario,
    ...(options.target === undefined ? {} : { target: options.target }),
    ...(options.duration === undefined ? {} : { durationSec: options.duration }),
  };
}

async function runEmbedded(
  scenario: ScenarioSpec,
  options: LoadCommandOptions,
): Promise<LoadResult> {
  const printer = progressPrinter();
  try {
    return await runLoad(scenario, {
      seed: options.seed,
      ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
      onProgress: printer.print,
    });
  } finally {
    printer.end();
  }
}

async function runWithK6(scenario: ScenarioSpec): Promise<LoadResult> {
  const arrival = scenario.arrival;
  if (arrival.kind !== 'trace') return runK6(scenario);
  const window = arrival.window ?? {
    startSec: 0,
    durationSec: scenario.durationSec * arrival.speedUp,
  };
  const traceRows = await loadTrace(arrival.file, {
    speedUp: arrival.speedUp,
    window,
    limit: arrival.limit,
  });
  return runK6(scenario, { traceRows });
}

/** Rewrites one status line on a TTY; prints every fifth snapshot as a plain line otherwise. */
function progressPrinter(): { print: (progress: ProgressSnapshot) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  let events = 0;
  return {
    print: (progress) => {
      events += 1;
      if (tty) process.stderr.write(`\r\x1b[2K${formatProgress(progress)}`);
      else if (events % PLAIN_PROGRESS_EVERY === 0)
        process.stderr.write(`${formatProgress(progress)}\n`);
    },
    end: () => {
      if (tty && events > 0) process.stderr.write('\n');
    },
  };
}

function hasCode(error: unknown): boolean {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
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
  if (!Number.isInteger(parsed))
    throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  return parsed;
}
