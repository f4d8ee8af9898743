import type { Command } from 'commander';

import { registerCompareCommand } from './compare.js';
import { registerDrillCommand } from './drill.js';
import { registerGateCommand } from './gate.js';
import { registerLoadCommand } from './load.js';
import { registerPlatformCommand } from './platform.js';
import { registerPolicyCommand } from './policy.js';
import { registerProvidersCommand } from './providers.js';
import { registerProxyCommand } from './proxy.js';
import { registerTenantsCommand } from './tenants.js';

/** Registers every subcommand; each lives in its own file in this folder. */
export function registerCommands(program: Command): void {
  registerCompareCommand(program);
  registerDrillCommand(program);
  registerGateCommand(program);
  registerLoadCommand(program);
  registerPlatformCommand(program);
  registerPolicyCommand(program);
  registerProvidersCommand(program);
  registerProxyCommand(program);
  registerTenantsCommand(program);
}
