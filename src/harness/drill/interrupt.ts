import { DrillInterruptedError } from './errors.js';

/** Signals that stop a drill; later ones are ignored so rollback can finish. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Aborts `controller` with `reasonFor(signal)`, by default a {@link DrillInterruptedError},
 * on the first SIGINT or SIGTERM. Repeated signals are swallowed until the returned function
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
