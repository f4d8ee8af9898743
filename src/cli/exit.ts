import { constants } from 'node:os';

import { STOP_SIGNALS } from '../stop-signals.js';

/**
 * Returns the exit code a shell reports for a process that `signal` ended: 128 plus the
 * signal number, so 130 for SIGINT, 143 for SIGTERM and 129 for SIGHUP.
 */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/**
 * Returns the exit code of a server command that stopped cleanly after `signal`: 0 for SIGINT
 * and SIGTERM, which an operator or supervisor sends to stop it, and 129 for SIGHUP. A hang-up
 * comes from a terminal or SSH session that closed, so the code shows a shell or supervisor
 * that the command did not stop on request.
 */
export function stoppedExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGHUP' ? signalExitCode(signal) : 0;
}

/** Maximum wait for stdout and stderr to write their pending output before an exit, in ms. */
const FLUSH_TIMEOUT_MS = 5_000;

/** Resolves once `stream` has written everything queued before this call. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.write('', () => resolve());
  });
}

/**
 * Exits with `code` once stdout and stderr have written their pending output, or after
 * FLUSH_TIMEOUT_MS when a reader stops reading. A pipe whose buffer is full queues the
 * rest of a write, so `process.exit` straight after a long message cuts it at the pipe's
 * buffer size.
 */
export async function exitAfterOutput(code: number): Promise<never> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
  });
  await Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), timeout]);
  clearTimeout(timer);
  process.exit(code);
}

/**
 * Makes every later SIGINT, SIGTERM or SIGHUP exit the process with `code` as {@link exitAfterOutput}
 * does. Install it before removing the handlers of `abortOnInterrupt`, because a signal that
 * comes while no handler is installed ends the process by the signal. The handlers stay until
 * the process exits.
 */
export function exitOnLaterInterrupt(code: number): void {
  const exit = (): void => {
    void exitAfterOutput(code);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, exit);
}
