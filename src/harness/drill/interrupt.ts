import { isFleetProcessError } from '../../platform/runtime/fleet-child.js';
import { isStopSignal, STOP_SIGNALS } from '../../stop-signals.js';
import { DrillInterruptedError } from './errors.js';

/**
 * Aborts `controller` with `reasonFor(signal)`, by default a {@link DrillInterruptedError},
 * on the first SIGINT, SIGTERM or SIGHUP. Repeated signals are swallowed until the returned function
 * removes the handlers, so a second Ctrl-C cannot kill the process halfway through rollback.
 */
export function abortOnInterrupt(
  controller: AbortController,
  reasonFor: (signal: NodeJS.Signals) => Error = (signal) => new DrillInterruptedError(signal),
): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      controller.abort(reasonFor(signal));
    }
  };
  for (const signal of STOP_SIGNALS) {
    process.on(signal, handler);
  }
  return () => {
    for (const signal of STOP_SIGNALS) {
      process.off(signal, handler);
    }
  };
}

/**
 * Time a failed start waits for this process's own SIGINT, SIGTERM or SIGHUP handler. The exit of a
 * child that the same signal killed can reach this process first.
 */
const SIGNAL_GRACE_MS = 500;

/**
 * Tells whether the platform failed to start because a signal interrupted the drill or load. A
 * Ctrl-C or a hang-up at a terminal reaches the whole process group, and a provider fleet
 * process that has not yet installed its own handlers dies of it, which fails the start.
 */
export async function interruptedStart(
  error: unknown,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (signal === undefined) return false;
  const stopSignal = isFleetProcessError(error) && isStopSignal(error.signal);
  if (stopSignal && !signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, SIGNAL_GRACE_MS);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
  return signal.aborted;
}

/**
 * Returns the reason of the signal that failed the platform's start, read after
 * {@link interruptedStart} has waited for that signal, or undefined when no signal did.
 */
export async function startInterruptReason(
  error: unknown,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  return (await interruptedStart(error, signal)) ? signal?.reason : undefined;
}
