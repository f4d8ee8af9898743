import { STOP_SIGNALS } from '../stop-signals.js';
import { exitAfterOutput, signalExitCode } from './exit.js';

/**
 * Handles a SIGINT, SIGTERM or SIGHUP that comes while scalegate loads its modules and checks
 * its inputs, before a command installs handlers of its own. Without a handler the signal ends
 * the process with no message. This module imports only `exit.ts` and `stop-signals.ts`, so
 * `bin/scalegate.js` loads it before the rest of the CLI.
 */

/**
 * Commands that exit 130 on SIGTERM and SIGHUP too, as `EXIT_INTERRUPTED` in
 * `commands/drill.ts` sets.
 */
const EXIT_130_COMMANDS = new Set(['drill', 'gate']);

let describe: (signal: NodeJS.Signals) => string = (signal) =>
  `${commandName()} interrupted by ${signal} while starting; nothing was run or written`;
let stopped = false;

function onStartSignal(signal: NodeJS.Signals): void {
  // A later signal is ignored, because the first one already exits once its message is out.
  if (stopped) return;
  stopped = true;
  process.stderr.write(`error: ${describe(signal)}\n`);
  const code = EXIT_130_COMMANDS.has(commandName()) ? 130 : signalExitCode(signal);
  void exitAfterOutput(code);
}

/**
 * Installs the start handlers: the first SIGINT, SIGTERM or SIGHUP prints one `error:` line
 * and exits with 128 plus the signal number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
 * Under `drill` and `gate` it exits with 130 for each of them.
 */
export function armStartInterrupt(): void {
  for (const signal of STOP_SIGNALS) {
    if (!process.listeners(signal).includes(onStartSignal)) process.on(signal, onStartSignal);
  }
}

/** Sets the `error:` line of a signal before the command's own handlers are in. */
export function describeStartInterrupt(message: (signal: NodeJS.Signals) => string): void {
  describe = message;
}

/**
 * Removes the start handlers. A command calls it after it installs its own, because a signal
 * that comes while no handler is installed ends the process by the signal.
 */
export function disarmStartInterrupt(): void {
  for (const signal of STOP_SIGNALS) process.off(signal, onStartSignal);
}

/** Returns the subcommand named on the command line, such as `load`, or `scalegate`. */
function commandName(): string {
  const name = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
  return name ?? 'scalegate';
}
