import { CommanderError, InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';

import { isNonLoopbackHostError } from '../faults/loopback.js';
import { isFaultConfigError, isProviderProfileError } from '../faults/providers/index.js';
import { formatPolicyProblem, isPolicyValidationError } from '../platform/router/policy-errors.js';
import { isRedisUrlError } from '../platform/runtime/redis-check.js';
import { isTenantConfigError } from '../platform/tenants/errors.js';
import { isPriceTableError, type PriceTableError } from '../platform/cost/errors.js';
import { isFileSystemError } from './unreadable-file.js';

/** Exit code of a command that failed at run time. */
export const EXIT_FAILURE = 1;
/** Exit code of a command given an invalid option or argument. */
export const EXIT_USAGE = 2;

/** An invalid option value found by a command's action rather than by its parser. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'usage_error';
}

/** Returns whether `value` is a {@link UsageError}. */
export function isUsageError(value: unknown): value is UsageError {
  return value instanceof UsageError;
}

/** A failure as the CLI reports it: its text, one line per problem, and the process exit code. */
export interface FailureReport {
  readonly message: string;
  readonly exitCode: number;
}

/**
 * Describes `error` for the `error:` line: bad input exits with {@link EXIT_USAGE}, anything
 * else with {@link EXIT_FAILURE}. A port in use names the port and the `--port` fix.
 */
export function describeFailure(error: unknown): FailureReport {
  if (isUsageInput(error)) {
    return { message: `${(error as Error).message}${causeCode(error)}`, exitCode: EXIT_USAGE };
  }
  if (isPolicyValidationError(error)) {
    const problems = error.problems.map(
      (problem) => `  ${formatPolicyProblem(error.source, problem)}`,
    );
    const head = (error.message.split('\n', 1)[0] ?? error.message).replace(/:$/, '');
    return {
      message: [`${head}:`, ...problems, 'Fix the file or pass another --policy.'].join('\n'),
      exitCode: EXIT_USAGE,
    };
  }
  if (isPriceTableError(error)) {
    return { message: priceTableMessage(error), exitCode: EXIT_USAGE };
  }
  const listen = describeListenError(error);
  if (listen !== undefined) {
    return { message: listen, exitCode: EXIT_FAILURE };
  }
  const file = describeFileError(error);
  if (file !== undefined) {
    return { message: file, exitCode: EXIT_USAGE };
  }
  return {
    message: error instanceof Error ? error.message : String(error),
    exitCode: EXIT_FAILURE,
  };
}

/**
 * Formats a price table problem as the loader states it, with the fix. The problem of a file
 * that could not be read already names its fix.
 */
function priceTableMessage(error: PriceTableError): string {
  if (isFileSystemError(error.cause)) return error.message;
  return `${error.message}; fix the file or pass another --prices`;
}

/** Returns ` (ENOENT)` and the like when the error wraps a system error, else ''. */
function causeCode(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as SystemError | undefined) : undefined;
  return typeof cause?.code === 'string' ? ` (${cause.code})` : '';
}

function isUsageInput(error: unknown): boolean {
  return (
    isUsageError(error) ||
    error instanceof InvalidArgumentError ||
    isNonLoopbackHostError(error) ||
    isRedisUrlError(error) ||
    isProviderProfileError(error) ||
    isFaultConfigError(error) ||
    isTenantConfigError(error)
  );
}

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  path?: unknown;
}

function describeListenError(error: unknown): string | undefined {
  const system = error as SystemError | undefined;
  if (typeof system !== 'object' || system === null || system.syscall !== 'listen') {
    return undefined;
  }
  const where = `port ${String(system.port)} on ${String(system.address)}`;
  if (system.code === 'EADDRINUSE') {
    return `${where} is already in use; pass another --port, or --port 0 for a free one`;
  }
  if (system.code === 'EACCES') {
    return `permission denied to listen on ${where}; pass a port above 1023, or --port 0`;
  }
  return undefined;
}

function describeFileError(error: unknown): string | undefined {
  const system = error as SystemError | undefined;
  if (typeof system !== 'object' || system === null || typeof system.path !== 'string') {
    return undefined;
  }
  if (system.code === 'ENOENT') {
    return `file not found: ${system.path}; pass the path of an existing file`;
  }
  if (system.code === 'EACCES' || system.code === 'EISDIR') {
    return `cannot read ${system.path} (${String(system.code)}); pass a readable file`;
  }
  return undefined;
}

/**
 * Prints `error: <task> failed: <reason>` to stderr, logs the stack at debug level and
 * returns the exit code. `task` names the step, such as `starting the fault proxy`.
 */
export function reportFailure(task: string, error: unknown, logger?: Logger): number {
  const report = describeFailure(error);
  logger?.debug({ err: error }, `${task} failed`);
  process.stderr.write(`error: ${task} failed: ${report.message}\n`);
  return report.exitCode;
}

/**
 * Returns the exit code for an error that escaped a command: commander has already printed
 * its own parse errors, so only other errors are printed here.
 */
export function exitCodeForUncaught(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  return reportFailure('scalegate', error);
}
