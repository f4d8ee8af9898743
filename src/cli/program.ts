import { Command } from 'commander';

import { registerCommands } from './commands/index.js';

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
    .exitOverride();

  registerCommands(program);
  return program;
}
