import type { Command } from 'commander';

/** Registers every subcommand; each lives in its own file in this folder. */
export function registerCommands(program: Command): void {
  void program;
}
