import type { Command } from 'commander';

import { registerLoadCommand } from './load.js';
import { registerProvidersCommand } from './providers.js';
import { registerProxyCommand } from './proxy.js';

/** Registers every subcommand; each lives in its own file in this folder. */
export function registerCommands(program: Command): void {
  registerLoadCommand(program);
  registerProvidersCommand(program);
  registerProxyCommand(program);
}
