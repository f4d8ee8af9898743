import type { Command } from 'commander';

import { isTenantConfigError, loadTenants } from '../../platform/tenants/index.js';
import { EXIT_FAILURE, EXIT_USAGE } from '../command-errors.js';
import { type FileKind, isFileSystemError, unreadableMessage } from '../unreadable-file.js';

/** Names a tenants file in the messages of a file that cannot be read. */
const TENANTS_FILE: FileKind = {
  noun: 'tenants file',
  folderFix: (folder) => `pass the tenants file in it, such as ${folder}/tenants.yaml`,
};

/** Registers `scalegate tenants` and its `check` subcommand. */
export function registerTenantsCommand(program: Command): void {
  const tenants = program
    .command('tenants')
    .description('Work with tenants files, such as fixtures/tenants.yaml');
  tenants
    .command('check')
    .description(
      'Validate a tenants file as the platform loads it at start, without starting it, and ' +
        'print every problem with its line, column and tenant id.',
    )
    .argument('<file>', 'tenants YAML file, such as fixtures/tenants.yaml')
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      '\nExit codes: 0 when the file is valid; 1 when it is invalid; 2 when no file is ' +
        'given or the file cannot be read, and then only an error line is printed.',
    )
    .action(async (file: string) => {
      process.exitCode = await runTenantsCheck(file);
    });
}

/**
 * Loads `file` with `loadTenants`, the loader the platform runs at start, prints the result
 * and returns the exit code that the help text gives.
 */
async function runTenantsCheck(file: string): Promise<number> {
  try {
    const registry = await loadTenants(file);
    const count = registry.tenants.length;
    process.stdout.write(`${file}: valid, ${count === 1 ? '1 tenant' : `${count} tenants`}\n`);
    return 0;
  } catch (error) {
    if (!isTenantConfigError(error)) throw error;
    if (isFileSystemError(error.cause)) {
      process.stderr.write(`error: ${unreadableMessage(file, error.cause, TENANTS_FILE)}\n`);
      return EXIT_USAGE;
    }
    process.stdout.write(`${error.problemList().join('\n')}\n`);
    return EXIT_FAILURE;
  }
}
