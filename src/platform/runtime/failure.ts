import type { Logger } from 'pino';

import { isProviderError } from '../providers/errors.js';
import { isRouterError, routerErrorStatus } from '../router/router-errors.js';
import { isServerlessError } from '../executors/serverless-errors.js';
import type { TaskError } from '../task.js';
import { withoutAddresses } from './internal-addresses.js';
import { failureOf } from './model-router.js';

/** A task failure as the client sees it: the recorded error plus its HTTP status. */
export interface FailureDescription extends TaskError {
  status: number;
  retryAfterSeconds?: number;
  /**
   * The message with the provider addresses that `message` withholds from the tenant, for
   * the platform's log. Absent when the message contained none.
   */
  logMessage?: string;
}

const SERVERLESS_STATUS: Record<string, number> = {
  throttled: 429,
  function_timeout: 504,
  integration_timeout: 504,
  emulator_closed: 503,
};

/**
 * Maps an execution error to a task error and a status: the router's own
 * status for router errors, 429 for a throttled function, 504 for timeouts,
 * 502 for provider failures, 499 when the client went away and 500 otherwise.
 * A `SpentTokensError` is described by the failure it wraps.
 */
export function describeFailure(thrown: unknown): FailureDescription {
  const error = failureOf(thrown);
  if (isServerlessError(error)) {
    const described: FailureDescription = {
      status: SERVERLESS_STATUS[error.code] ?? 500,
      code: `serverless_${error.code}`,
      message: error.message,
    };
    if (error.retryAfterSeconds !== undefined)
      described.retryAfterSeconds = error.retryAfterSeconds;
    return described;
  }
  if (isRouterError(error)) {
    const described: FailureDescription = {
      status: error.httpStatus,
      code: error.code,
      ...providerMessage(
        error.code === 'client_aborted' ? CLIENT_ABORTED_MESSAGE : error.message,
        error,
      ),
    };
    if (error.attempts.length > 0) described.attempts = error.attempts;
    if (error.retryAfterMs !== undefined) {
      described.retryAfterSeconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
    }
    return described;
  }
  if (isProviderError(error)) {
    const timeout =
      error.errorClass === 'deadline_exceeded' || error.errorClass === 'first_token_timeout';
    return {
      status: timeout ? 504 : 502,
      code: `provider_${error.errorClass}`,
      ...providerMessage(error.message, error),
    };
  }
  if (isAbort(error))
    return { status: 499, code: 'client_aborted', message: CLIENT_ABORTED_MESSAGE };
  return describeCoded(error);
}

/**
 * Returns the tenant's message of a router or provider failure: each network address, such
 * as the `127.0.0.1:PORT` of a refused connection, becomes the name of the provider in the
 * error's cause chain, or `the provider`. `logMessage` keeps the addresses.
 */
function providerMessage(
  message: string,
  error: Error,
): Pick<FailureDescription, 'message' | 'logMessage'> {
  const withheld = withoutAddresses(message, providerNameOf(error) ?? 'the provider');
  return withheld === message ? { message } : { message: withheld, logMessage: message };
}

/** Returns the provider of the first ProviderError among the first 8 errors of the chain. */
function providerNameOf(error: unknown): string | undefined {
  let cause = error;
  for (let depth = 0; depth < 8 && cause instanceof Error; depth += 1) {
    if (isProviderError(cause)) return cause.provider;
    cause = cause.cause;
  }
  return undefined;
}

/**
 * Logs the message of a task failure whose tenant-facing message withholds provider
 * addresses, at warn with the task id, so operators still see the addresses. Does nothing
 * for other failures, whose message the tenant already has in full.
 */
export function logWithheldAddresses(
  logger: Pick<Logger, 'warn'> | undefined,
  taskId: string,
  failure: FailureDescription,
): void {
  if (failure.logMessage === undefined) return;
  logger?.warn({ taskId, code: failure.code }, `task failed: ${failure.logMessage}`);
}

/**
 * Other errors with a string `code` keep it, and their numeric `status` when
 * they carry one; the rest become `internal_error`.
 */
function describeCoded(error: unknown): FailureDescription {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    const status = 'status' in error && typeof error.status === 'number' ? error.status : 500;
    return { status, code: error.code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, code: 'internal_error', message };
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Advice at the end of errors after which the client may run the task again. A request with
 * the same Idempotency-Key gets the stored error instead of a new run, so it names a new key.
 */
export const SEND_AGAIN_WITH_NEW_KEY =
  'send the task again, with a new Idempotency-Key if the request had one, because a request with the same key returns this error';

/**
 * Message of a task whose client closed the request. The router's abort and an abort during
 * a tool wait give the same message, since the client sees no difference.
 */
const CLIENT_ABORTED_MESSAGE = `the client closed the request before the task ended; ${SEND_AGAIN_WITH_NEW_KEY}`;

/** Statuses of the coded errors that the executors and the run limits raise. */
const OWN_STATUS: Record<string, number> = {
  task_deadline_exceeded: 504,
  platform_shutdown: 503,
  gateway_lost: 503,
  store_unavailable: 503,
  client_aborted: 499,
};

/**
 * Returns the HTTP status `describeFailure` gives a failure with this code, as for
 * a request replayed with its Idempotency-Key; 500 for a code it does not know.
 */
export function failureStatusOf(code: string): number {
  const routerStatus = routerErrorStatus(code);
  if (routerStatus !== undefined) return routerStatus;
  if (code.startsWith('serverless_')) return SERVERLESS_STATUS[code.slice(11)] ?? 500;
  if (code === 'provider_deadline_exceeded' || code === 'provider_first_token_timeout') return 504;
  if (code.startsWith('provider_')) return 502;
  return OWN_STATUS[code] ?? 500;
}

/** Builds the task error stored for a failure: code, message, attempts and Retry-After, without the HTTP status. */
export function taskErrorOf(failure: FailureDescription): TaskError {
  const error: TaskError = { code: failure.code, message: failure.message };
  if (failure.attempts !== undefined) error.attempts = failure.attempts;
  if (failure.retryAfterSeconds !== undefined) error.retryAfterSeconds = failure.retryAfterSeconds;
  return error;
}
