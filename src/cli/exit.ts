import { constants } from 'node:os';

/**
 * Returns the exit code a shell reports for a process that `signal` ended: 128 plus the
 * signal number, so 130 for SIGINT and 143 for SIGTERM.
 */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
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
 * Makes every later SIGINT or SIGTERM exit the process with `code` as {@link exitAfterOutput}
 * does. Install it before removing the handlers of `abortOnInterrupt`, because a signal that
 * comes while no handler is installed ends the process by the signal. The handlers stay until
 * the process exits.
 */
export function exitOnLaterInterrupt(code: number): void {
  const exit = (): void => {
    void exitAfterOutput(code);
  };
  process.on('SIGINT', exit);
  process.on('SIGTERM', exit);
}
