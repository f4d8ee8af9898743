import { Command } from 'commander';

import { registerCommands } from './commands/index.js';

/** Builds the `scalegate` command with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command('scalegate')
    .description(
      'Reference LLM-agent platform with load, chaos and gating pipeline: ' +
        'mock providers, a fault proxy, the platform, drills and reports.',
    )
    .showHelpAfterError()
    .enablePositionalOptions();

  registerCommands(program);
  return program;
}
