/**
 * Signals that stop a long-running scalegate process with a drain: SIGINT from Ctrl-C, SIGTERM
 * from `kill`, `timeout` or a supervisor, and SIGHUP when the terminal or SSH session that runs
 * the process closes. A terminal sends SIGINT and SIGHUP to its whole foreground process
 * group, so child processes get them too. `bin/scalegate.js` repeats this list because it
 * runs before tsx can load this module.
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** One of {@link STOP_SIGNALS}. */
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Tells whether `signal` is one of {@link STOP_SIGNALS}. */
export function isStopSignal(signal: string | null | undefined): signal is StopSignal {
  return (STOP_SIGNALS as readonly (string | null | undefined)[]).includes(signal);
}
