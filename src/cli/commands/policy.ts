import type { Command } from 'commander';

import { loadProviderCatalog } from '../../faults/providers/index.js';
import { EXIT_FAILURE, EXIT_USAGE } from '../command-errors.js';
import {
  checkPolicyFiles,
  formatPolicyChecks,
  policyCheckOutput,
  type ReadPolicyCheck,
} from '../policy-check.js';

interface PolicyCheckOptions {
  json: boolean;
}

/** Registers `scalegate policy` and its `check` subcommand. */
export function registerPolicyCommand(program: Command): void {
  const policy = program
    .command('policy')
    .description('Work with route policy files, such as policies/default.yaml');
  policy
    .command('check')
    .description(
      'Validate route policy files as the platform loads them at start, against ' +
        'policies/schema.json, the provider catalog and the router checks, without starting it.',
    )
    .argument('[files...]', 'route policy YAML files, such as policies/*.yaml')
    .option(
      '--json',
      'print the results as JSON, as reports/schema/policy-check.schema.json describes',
      false,
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 when every file is valid; 1 when any file is invalid; 2 when no file ' +
        'is given or a file cannot be read, and then only the error lines are printed.',
    )
    .action(async (files: string[], options: PolicyCheckOptions) => {
      process.exitCode = await runPolicyCheck(files, options);
    });
}

/** Checks the files, prints the results and returns the exit code that the help text gives. */
async function runPolicyCheck(files: string[], options: PolicyCheckOptions): Promise<number> {
  if (files.length === 0) {
    process.stderr.write(
      'error: policy check needs one or more policy files; pass them as arguments, ' +
        'such as scalegate policy check policies/*.yaml\n',
    );
    return EXIT_USAGE;
  }
  const checks = await checkPolicyFiles(files, await loadProviderCatalog());
  const unreadable = checks.flatMap((check) => (check.kind === 'unreadable' ? [check] : []));
  if (unreadable.length > 0) {
    process.stderr.write(unreadable.map((check) => `error: ${check.message}\n`).join(''));
    return EXIT_USAGE;
  }
  const read = checks.filter((check): check is ReadPolicyCheck => check.kind !== 'unreadable');
  const text = options.json
    ? JSON.stringify(policyCheckOutput(read), null, 2)
    : formatPolicyChecks(read).join('\n');
  process.stdout.write(`${text}\n`);
  return read.every((check) => check.kind === 'valid') ? 0 : EXIT_FAILURE;
}
