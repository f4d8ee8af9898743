import { type Command, InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';

import {
  formatTopology,
  type Platform,
  startPlatform,
  WORKER_ABORT_GRACE_MS,
} from '../../platform/runtime.js';
import { withTimeout } from '../../platform/timeout.js';
import type { TaskAccounting } from '../../platform/store/task-store.js';
import { abortOnInterrupt, interruptedStart } from '../../harness/drill/interrupt.js';
import {
  addBackpressureOptions,
  type BackpressureCommandOptions,
  backpressureLimits,
} from '../backpressure-options.js';
import { reportFailure } from '../command-errors.js';
import { exitAfterOutput, exitOnLaterInterrupt, signalExitCode, stoppedExitCode } from '../exit.js';
import { commandLogger } from '../logger.js';
import { disarmStartInterrupt } from '../start-interrupt.js';
import { STOP_SIGNALS } from '../../stop-signals.js';
import {
  parseDurationMsFrom,
  parseExistingFile,
  parsePort,
  parseTopologyOption,
  PRICES_HELP,
  TOPOLOGY_HELP,
} from '../options.js';
import {
  DEFAULT_QUEUE_RETENTION_MS,
  DEFAULT_STALL_INTERVAL_MS,
} from '../../platform/queue/options.js';
import type { LoadedFile } from '../../platform/runtime/loaded-files.js';
import { DEFAULT_SYNC_LEASE_MS } from '../../platform/runtime/sync-task-owners.js';

interface PlatformCommandOptions extends BackpressureCommandOptions {
  readonly port: number;
  readonly topology: string;
  readonly redisUrl?: string;
  readonly keyPrefix: string;
  readonly tenants?: string;
  readonly policy?: string;
  readonly prices?: string;
  readonly shutdownTimeoutMs: number;
  readonly syncTaskLeaseMs: number;
  readonly stallIntervalMs: number;
  readonly taskRetentionMs: number;
  readonly faultProxy: boolean;
  readonly logLevel: string;
}

/** pino's level names, most to least verbose, and `silent`. */
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * Redis key prefix of `scalegate platform`. It is the same on every start, so a
 * restart finds the tasks, budgets and idempotency keys of the run before it.
 */
const DEFAULT_KEY_PREFIX = 'scalegate';

/**
 * Time past the drain timeout after which the process exits even if closing hangs. It is
 * longer than the time worker processes get to return their cut tasks to the queue, plus
 * 5 s to close the queue, store and providers.
 */
const EXIT_GRACE_MS = WORKER_ABORT_GRACE_MS + 5_000;

/** Hex digits of a file's sha256 in the `platform started` record, as compare prints them. */
const SHORT_HASH_DIGITS = 12;

/** Maximum wait for the task counts logged at a stop, in ms. */
const ACCOUNTING_TIMEOUT_MS = 1_000;

/** Registers `scalegate platform`: providers, fault proxy, router, queue, executors and gateway. */
export function registerPlatformCommand(program: Command): void {
  const command = program
    .command('platform')
    .description('Run the whole platform on 127.0.0.1 until SIGINT, SIGTERM or SIGHUP')
    .option('--port <port>', 'gateway port (0 picks a free one)', parsePort, 8080)
    .option(
      '--topology <spec>',
      TOPOLOGY_HELP,
      parseTopologyOption,
      'workers=24 serverless_burst=enabled',
    )
    .option(
      '--redis-url <url>',
      'Redis for admission, queue, store and ledger (default: REDIS_URL, else memory)',
      parseRedisUrlOption,
    )
    .option(
      '--key-prefix <prefix>',
      'with Redis: prefix of the Redis keys; a restart with the same prefix runs the tasks a stop left queued',
      parseKeyPrefix,
      DEFAULT_KEY_PREFIX,
    )
    .option(
      '--tenants <file>',
      'tenants file with hashed API keys and limits (default: fixtures/tenants.yaml of the scalegate checkout)',
      parseExistingFile,
    )
    .option(
      '--policy <file>',
      'route policy file (default: policies/default.yaml of the scalegate checkout)',
      parseExistingFile,
    )
    .option('--prices <file>', PRICES_HELP, parseExistingFile)
    .option(
      '--shutdown-timeout-ms <ms>',
      `time a signal waits for running tasks before it fails them with platform_shutdown, except async tasks on Redis, which go back to the queue; the process exits at most ${EXIT_GRACE_MS / 1000} s later, and a second signal exits at once. A worker process given SIGTERM on its own waits as long before its tasks go back to the queue`,
      parseShutdownTimeoutMs,
      10_000,
    )
    .option(
      '--stall-interval-ms <ms>',
      'with Redis: a running async task whose worker process stopped renewing its lock, as a killed one does, returns to the queue once the lock is this old, at the next stall check, which also runs this often',
      parseSecondsMs,
      DEFAULT_STALL_INTERVAL_MS,
    )
    .option(
      '--sync-task-lease-ms <ms>',
      "with Redis: lifetime of this process's lease on its running sync tasks and on the async tasks it is admitting, renewed every third of it. After a SIGKILL another platform process on the same key prefix fails those tasks with gateway_lost and frees their in-flight slots, within three lease times; an async task whose job reached the queue runs instead",
      parseSecondsMs,
      DEFAULT_SYNC_LEASE_MS,
    )
    .option(
      '--task-retention-ms <ms>',
      'how long a finished task stays readable by GET /v1/tasks/:id, and how long its record, queue job and cost record stay before they are deleted; the counts and cost totals keep counting them. An Idempotency-Key expires with its task',
      parseSecondsMs,
      DEFAULT_QUEUE_RETENTION_MS,
    )
    .option(
      '--log-level <level>',
      `lowest level logged: ${LOG_LEVELS.join(', ')}. Each request is logged at debug, and 5xx responses other than a /readyz 503 at warn`,
      parseLogLevel,
      'info',
    )
    .option(
      '--no-fault-proxy',
      'call the mock providers directly: no fault injection, and no CPU spent relaying bytes',
    )
    .action(runPlatform);
  addBackpressureOptions(command);
}

async function runPlatform(options: PlatformCommandOptions, command: Command): Promise<void> {
  const redisOnly = redisOnlyOptionsWithoutRedis(options, command);
  if (redisOnly !== undefined) {
    process.stderr.write(`error: ${redisOnly}\n`);
    return exitAfterOutput(2);
  }
  const logger = commandLogger('scalegate-platform', 1, options.logLevel);
  const shutdownTimeoutMs = options.shutdownTimeoutMs;
  const backpressure = backpressureLimits(options);
  // startPlatform takes no abort signal, so a signal during the start is kept until the start
  // ends. A failed start has stopped what it started, and a finished one is stopped below.
  let startSignal: NodeJS.Signals | undefined;
  const startController = new AbortController();
  const disposeStart = abortOnInterrupt(startController, (signal) => {
    startSignal = signal;
    logger.warn({ signal }, 'signal while the platform starts; stopping it once the start ends');
    return new Error(`platform start interrupted by ${signal}`);
  });
  disarmStartInterrupt();
  let platform: Platform;
  try {
    platform = await startPlatform({
      port: options.port,
      topology: options.topology,
      redisUrl: options.redisUrl,
      keyPrefix: options.keyPrefix,
      tenantsPath: options.tenants,
      policyPath: options.policy,
      pricesPath: options.prices,
      shutdownTimeoutMs,
      syncTaskLeaseMs: options.syncTaskLeaseMs,
      queue: { stallIntervalMs: options.stallIntervalMs },
      taskRetentionMs: options.taskRetentionMs,
      faultProxy: options.faultProxy,
      backpressure,
      logger,
    });
  } catch (error) {
    // A worker process in the terminal's process group dies of the same Ctrl-C or hang-up
    // before it installs its handlers, which fails the start.
    if ((await interruptedStart(error, startController.signal)) && startSignal !== undefined) {
      const code = signalExitCode(startSignal);
      logger.warn(
        { signal: startSignal, err: error },
        'platform start interrupted; the parts that had started are stopped',
      );
      exitOnLaterInterrupt(code);
      disposeStart();
      return exitAfterOutput(code);
    }
    // Exits once the message is out: a failed start can leave timers or sockets that would
    // keep the process up.
    return exitAfterOutput(reportFailure('starting the platform', error, logger));
  }
  if (startSignal !== undefined) {
    const code = signalExitCode(startSignal);
    // A further signal exits at once, as one during a stop after the start does.
    exitOnLaterInterrupt(code);
    disposeStart();
    return stopAndExit(platform, logger, startSignal, shutdownTimeoutMs, code);
  }
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting without waiting');
      // On Redis, another platform process on the same key prefix fails the running sync
      // tasks, and the async tasks still being admitted, with gateway_lost once this
      // process's lease has run out.
      process.exit(signalExitCode(signal));
    }
    stopping = true;
    void stopAndExit(platform, logger, signal, shutdownTimeoutMs, stoppedExitCode(signal));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  disposeStart();
  // The handlers go in before this line, because a reader may signal as soon as it reads it.
  // The line is written at info under a higher --log-level too, because it is the only
  // place a port 0 shows. Writing it at the configured level would log a start as an error.
  if (logger.level === 'silent') return;
  const startLogger = logger.isLevelEnabled('info') ? logger : logger.child({}, { level: 'info' });
  startLogger.info(
    {
      // The drivers come first, so that a platform started without REDIS_URL shows at a glance.
      drivers: platform.drivers,
      ...(platform.redisUrl === undefined ? {} : { redisUrl: platform.redisUrl }),
      urls: platform.urls,
      topology: formatTopology(platform.topology),
      backpressure,
      tenantsFile: shortHashed(platform.files.tenants),
      priceTable: shortHashed(platform.files.prices),
      redisKeyPrefix: platform.keyPrefix,
      syncOwnerId: platform.syncOwnerId,
    },
    'platform started',
  );
}

/**
 * Returns the file's path with the first 12 hex digits of its sha256, as `scalegate compare`
 * prints them. It names the file only, never a key or key hash it contains.
 */
function shortHashed(file: LoadedFile): LoadedFile {
  return { path: file.path, sha256: file.sha256.slice(0, SHORT_HASH_DIGITS) };
}

/**
 * Drains for at most `timeoutMs`, then exits with `exitCode`, or 1 when the stop fails; a hung
 * close cannot keep the process alive.
 */
async function stopAndExit(
  platform: Platform,
  logger: Logger,
  signal: NodeJS.Signals,
  timeoutMs: number,
  exitCode = 0,
): Promise<void> {
  const guard = setTimeout(() => {
    logger.error(
      { timeoutMs: timeoutMs + EXIT_GRACE_MS },
      'platform did not stop in time; exiting',
    );
    process.exit(1);
  }, timeoutMs + EXIT_GRACE_MS);
  guard.unref();
  // A Redis that does not reply must not hold up the stop itself.
  const counts = await withTimeout(
    platform.store.accounting(),
    ACCOUNTING_TIMEOUT_MS,
    'task count read',
  ).catch(() => undefined);
  // On Redis the counts cover every platform process on the key prefix, not this one alone.
  const scope = platform.keyPrefix === undefined ? 'platform' : 'keyPrefix';
  logger.info(
    { signal, timeoutMs, countsOf: scope, running: counts?.running, queued: counts?.queued },
    'platform stopping; waiting for running tasks',
  );
  if (platform.keyPrefix !== undefined && (counts?.queued ?? 0) > 0) {
    logger.warn(
      { queued: counts?.queued, redisKeyPrefix: platform.keyPrefix },
      `queued tasks under key prefix ${platform.keyPrefix} stay in Redis; any platform process on that prefix and Redis runs them, or fails with gateway_lost those that a killed process left before their job reached the queue, so start one with --key-prefix ${platform.keyPrefix} if no other is running`,
    );
  }
  // On Redis another platform process on the key prefix, or the next start, runs the
  // async tasks that go back to the queue.
  const cutTasks =
    platform.keyPrefix === undefined
      ? 'failing running tasks with platform_shutdown'
      : 'returning running async tasks to the queue and failing running sync tasks with platform_shutdown';
  const onDrainTimeout = (): void => logger.warn({ timeoutMs }, `drain time ran out; ${cutTasks}`);
  // The counts after the stop let an operator check that accepted equals succeeded plus
  // failed plus dead_lettered, plus on Redis the tasks left queued or running on the prefix.
  let stoppedCounts: TaskAccounting | undefined;
  const onTaskCounts = (read: TaskAccounting): void => {
    stoppedCounts = read;
  };
  try {
    await platform.stop({ onDrainTimeout, onTaskCounts });
    logger.info(
      stoppedCounts === undefined ? {} : { countsOf: scope, ...stoppedCounts },
      'platform stopped',
    );
    process.exit(exitCode);
  } catch (error) {
    logger.error({ err: error }, 'platform failed to stop cleanly');
    process.exit(1);
  }
}

/** Options that only a platform on Redis uses, by commander's key. */
const REDIS_ONLY_OPTIONS = [
  ['keyPrefix', '--key-prefix'],
  ['stallIntervalMs', '--stall-interval-ms'],
  ['syncTaskLeaseMs', '--sync-task-lease-ms'],
] as const;

/**
 * Returns the usage error for Redis-only options given on the command line to a platform
 * that would run on memory drivers and ignore them, or undefined when there are none.
 */
function redisOnlyOptionsWithoutRedis(
  options: PlatformCommandOptions,
  command: Command,
): string | undefined {
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? '';
  if (redisUrl.length > 0) return undefined;
  const passed = REDIS_ONLY_OPTIONS.filter(([key]) => command.getOptionValueSource(key) === 'cli');
  if (passed.length === 0) return undefined;
  const flags = passed.map(([, flag]) => flag).join(', ');
  const them = passed.length === 1 ? 'it' : 'them';
  return `${flags} ${passed.length === 1 ? 'applies' : 'apply'} to a platform on Redis, but neither --redis-url nor REDIS_URL is set, so the platform would use memory drivers and ignore ${them}; pass --redis-url redis://127.0.0.1:6379 or set REDIS_URL, or drop ${them}`;
}

/**
 * Rejects an empty `--redis-url`, as a script passing an unset variable gives, which would
 * otherwise start a platform on memory drivers that was meant to share Redis.
 */
function parseRedisUrlOption(value: string): string {
  if (value.trim().length === 0) {
    throw new InvalidArgumentError(
      'expected a redis:// URL such as redis://127.0.0.1:6379; to run on memory drivers, leave out --redis-url and REDIS_URL.',
    );
  }
  return value;
}

/** Checks a `--log-level` value against pino's level names, in any case, and returns it. */
function parseLogLevel(value: string): string {
  const level = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new InvalidArgumentError(`use one of ${LOG_LEVELS.join(', ')}.`);
  }
  return level;
}

/** Checks a `--key-prefix` value and returns it unchanged. */
function parseKeyPrefix(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9:_.-]{0,63}$/.test(value)) {
    throw new InvalidArgumentError(
      'use 1 to 64 letters, digits and : _ . - starting with a letter or digit, such as scalegate-staging.',
    );
  }
  return value;
}

/**
 * Parses a time of at least 1 s: a lease or lock, such as --sync-task-lease-ms, is renewed
 * within a fraction of it, and the queue keeps finished jobs for whole seconds.
 */
function parseSecondsMs(value: string): number {
  return parseDurationMsFrom(value, 1000);
}

/** Parses the drain time of a stop, which must be at least 1 ms, as startPlatform requires. */
function parseShutdownTimeoutMs(value: string): number {
  return parseDurationMsFrom(value, 1);
}
