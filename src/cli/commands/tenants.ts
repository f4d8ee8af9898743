import type { Command } from 'commander';

import {
  checkTenantsFile,
  isTenantConfigError,
  type LocatedTenantWarning,
  type TenantConfigError,
} from '../../platform/tenants/index.js';
import { EXIT_FAILURE, EXIT_USAGE } from '../command-errors.js';
import { type FileKind, isFileSystemError, unreadableMessage } from '../unreadable-file.js';

/** Names a tenants file in the messages of a file that cannot be read. */
const TENANTS_FILE: FileKind = {
  noun: 'tenants file',
  folderFix: (folder) => `pass the tenants file in it, such as ${folder}/tenants.yaml`,
};

/** Location of the JSON Schema of the `scalegate tenants check --json` output. */
export const TENANTS_CHECK_SCHEMA_URL = new URL(
  '../../../reports/schema/tenants-check.schema.json',
  import.meta.url,
);

/** One problem of a tenants file in the `--json` output. */
interface TenantsCheckProblem {
  /** Path of the field, such as `tenants[1].maxInFlight`, or `(file)`. */
  field: string;
  /** Id of the tenant entry that contains the field, or null. */
  tenantId: string | null;
  /** Line of the field in the file, counted from 1, or null when the loader found no position. */
  line: number | null;
  /** Column of the field, counted from 1, or null when `line` is null. */
  column: number | null;
  /** The problem without the file and field. */
  message: string;
}

/** The `--json` output, which reports/schema/tenants-check.schema.json describes. */
interface TenantsCheckOutput {
  schemaVersion: 1;
  file: string;
  valid: boolean;
  /** Number of tenants, or null for an invalid file. */
  tenants: number | null;
  /** Every problem the loader found, in its order, so none for a valid file. */
  problems: TenantsCheckProblem[];
  /** Settings of a valid file that work against what they seem to set; none for an invalid file. */
  warnings: TenantsCheckProblem[];
}

interface TenantsCheckOptions {
  json: boolean;
}

/** Registers `scalegate tenants` and its `check` subcommand. */
export function registerTenantsCommand(program: Command): void {
  const tenants = program
    .command('tenants')
    .description('Work with tenants files, such as fixtures/tenants.yaml');
  tenants
    .command('check')
    .description(
      'Validate a tenants file as the platform loads it at start, without starting it, and ' +
        'print every problem with its line, column and tenant id. A valid file may still get ' +
        'warnings, the ones the platform logs at start: a budgetUsd of 0, or a maxRunning ' +
        'above maxInFlight.',
    )
    .argument('[file]', 'tenants YAML file, such as fixtures/tenants.yaml')
    .option(
      '--json',
      'print the result as JSON, as reports/schema/tenants-check.schema.json describes',
      false,
    )
    .allowExcessArguments(false)
    .addHelpText(
      'after',
      '\nExit codes: 0 when the file is valid, with or without warnings; 1 when it is ' +
        'invalid; 2 when no file is given or the file cannot be read, and then only an ' +
        'error line is printed, as text on stderr also with --json.',
    )
    .action(async (file: string | undefined, options: TenantsCheckOptions) => {
      if (file === undefined) {
        process.stderr.write(
          'error: tenants check needs a tenants file; pass it as an argument, such as ' +
            'scalegate tenants check fixtures/tenants.yaml\n',
        );
        process.exitCode = EXIT_USAGE;
        return;
      }
      process.exitCode = await runTenantsCheck(file, options);
    });
}

/**
 * Loads `file` with the loader the platform runs at start, prints the result and returns
 * the exit code that the help text gives.
 */
async function runTenantsCheck(file: string, options: TenantsCheckOptions): Promise<number> {
  try {
    const { registry, warnings } = await checkTenantsFile(file);
    const count = registry.tenants.length;
    const text = options.json
      ? jsonText({
          schemaVersion: 1,
          file,
          valid: true,
          tenants: count,
          problems: [],
          warnings: warnings.map(warningOutput),
        })
      : validText(file, count, warnings);
    process.stdout.write(`${text}\n`);
    return 0;
  } catch (error) {
    if (!isTenantConfigError(error)) throw error;
    if (isFileSystemError(error.cause)) {
      process.stderr.write(`error: ${unreadableMessage(file, error.cause, TENANTS_FILE)}\n`);
      return EXIT_USAGE;
    }
    const text = options.json
      ? jsonText({
          schemaVersion: 1,
          file,
          valid: false,
          tenants: null,
          problems: problemsOf(error),
          warnings: [],
        })
      : error.problemList().join('\n');
    process.stdout.write(`${text}\n`);
    return EXIT_FAILURE;
  }
}

function problemsOf(error: TenantConfigError): TenantsCheckProblem[] {
  return error.problems.map((problem) => ({
    field: problem.field,
    tenantId: problem.tenantId ?? null,
    line: problem.location?.line ?? null,
    column: problem.location?.column ?? null,
    message: problem.detail,
  }));
}

/**
 * Formats a valid file's summary, such as `tenants.yaml: valid, 2 tenants, 1 warning:`, and
 * then one indented line per warning, as problems are printed.
 */
function validText(file: string, count: number, warnings: readonly LocatedTenantWarning[]) {
  const summary = `${file}: valid, ${count === 1 ? '1 tenant' : `${count} tenants`}`;
  if (warnings.length === 0) return summary;
  const heading = `${summary}, ${warnings.length === 1 ? '1 warning' : `${warnings.length} warnings`}:`;
  const lines = warnings.map((warning) => {
    const { line, column } = warning.location;
    const field = `${warning.fieldPath} (id ${warning.tenantId})`;
    return `  ${file}:${line}:${column} ${field}: ${warning.detail}`;
  });
  return [heading, ...lines].join('\n');
}

function warningOutput(warning: LocatedTenantWarning): TenantsCheckProblem {
  return {
    field: warning.fieldPath,
    tenantId: warning.tenantId,
    line: warning.location.line,
    column: warning.location.column,
    message: warning.detail,
  };
}

function jsonText(output: TenantsCheckOutput): string {
  return JSON.stringify(output, null, 2);
}
