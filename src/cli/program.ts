import { Command } from 'commander';

import { registerCommands } from './commands/index.js';
import { disarmStartInterrupt } from './start-interrupt.js';

/**
 * Commands that install SIGINT, SIGTERM and SIGHUP handlers of their own and keep the start handlers
 * of `start-interrupt.ts` until then. The other commands remove those before their action runs.
 */
const COMMANDS_WITH_OWN_HANDLERS = new Set(['drill', 'gate', 'load', 'platform']);

/** Builds the `scalegate` command with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command('scalegate')
    .description(
      'Reference LLM-agent platform with load, chaos and gating pipeline: ' +
        'mock providers, a fault proxy, the platform, drills and reports.',
    )
    .enablePositionalOptions()
    // Parse errors throw a CommanderError, which main.ts turns into exit code 2; subcommands
    // registered below inherit this setting.
    .exitOverride()
    .hook('preAction', (_program, command) => {
      if (!COMMANDS_WITH_OWN_HANDLERS.has(command.name())) disarmStartInterrupt();
    });

  registerCommands(program);
  return program;
}
