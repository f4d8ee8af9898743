import { basename, resolve } from 'node:path';

import type { Command } from 'commander';

import { compareGroups, type RunGroup } from '../../harness/compare/compare.js';
import { isCompareInputError } from '../../harness/compare/errors.js';
import { formatComparison } from '../../harness/compare/format.js';
import { readRun } from '../../harness/compare/read.js';
import type { RunRecord } from '../../harness/compare/run.js';
import { EXIT_USAGE, isUsageError, UsageError } from '../command-errors.js';

interface CompareCommandOptions {
  base?: string[];
  candidate?: string[];
  json: boolean;
}

/** Registers `scalegate compare`. */
export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description(
      'Compare load --out JSON files or drill report.json files: throughput, success, latency ' +
        'and cost per task, each as a change in percent from the first file or group.',
    )
    .argument('[files...]', 'one run per column; the first file is the baseline')
    .option('--base <files...>', 'repeated runs of the baseline, in place of [files...]')
    .option('--candidate <files...>', 'repeated runs compared with the --base runs')
    .option('--json', 'print the comparison as JSON instead of a table', false)
    .addHelpText(
      'after',
      '\nExit codes: 0 when the comparison was printed, with or without warnings; ' +
        '2 when an option or an input file cannot be used, or a file is given twice.',
    )
    .action(async (files: string[], options: CompareCommandOptions, command: Command) => {
      process.exitCode = await runCompareCommand(files, options, command);
    });
}

/**
 * Runs the command and returns the exit code: 0 when the comparison was printed, with or
 * without warnings, and 2 when the options or an input file cannot be used.
 */
async function runCompareCommand(
  files: string[],
  options: CompareCommandOptions,
  command: Command,
): Promise<number> {
  let groups: GroupFiles[];
  try {
    rejectRepeatedGroupFlags(command);
    groups = groupFiles(files, options);
  } catch (error) {
    if (!isUsageError(error)) throw error;
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT_USAGE;
  }
  // Files are read before repeats are rejected, so a missing file given twice is reported
  // as missing.
  const { runGroups, problems } = await readGroups(groups);
  if (problems.length > 0) {
    process.stderr.write(problems.map((problem) => `error: ${problem}\n`).join(''));
    return EXIT_USAGE;
  }
  try {
    rejectRepeatedFiles(groups);
  } catch (error) {
    if (!isUsageError(error)) throw error;
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const comparison = compareGroups(runGroups);
  const text = options.json
    ? JSON.stringify(comparison, null, 2)
    : formatComparison(comparison).join('\n');
  process.stdout.write(`${text}\n`);
  return 0;
}

/** Example of the grouped form for usage errors. */
const GROUP_EXAMPLE = '--base a1.json a2.json --candidate b1.json b2.json';

/** Files of each group, with the group's column heading. */
interface GroupFiles {
  label: string;
  files: string[];
}

/** Sorts the arguments into groups, the baseline first. */
function groupFiles(files: readonly string[], options: CompareCommandOptions): GroupFiles[] {
  const grouped = options.base !== undefined || options.candidate !== undefined;
  if (grouped && files.length > 0) {
    throw new UsageError(
      `${files.join(' ')}: pass files either as arguments or with --base and --candidate, not both`,
    );
  }
  if (grouped) {
    rejectEmptyGroup('--base', options.base);
    rejectEmptyGroup('--candidate', options.candidate);
    if (options.base === undefined || options.candidate === undefined) {
      const [given, missing] =
        options.base === undefined ? ['--candidate', '--base'] : ['--base', '--candidate'];
      throw new UsageError(
        `${given} is given without ${missing}; pass the runs of each side, such as ` +
          `${GROUP_EXAMPLE}`,
      );
    }
    return [
      { label: 'base', files: options.base },
      { label: 'candidate', files: options.candidate },
    ];
  }
  if (files.length < 2) {
    throw new UsageError(
      'compare needs two or more files; pass them as arguments, the baseline first, ' +
        'or as --base FILE... --candidate FILE...',
    );
  }
  return files.map((file) => ({ label: columnLabel(file, files), files: [file] }));
}

/**
 * Rejects a `--base` or `--candidate` given no files. Commander takes the argument after an
 * option that requires a value even when it starts with a dash, so `--base --candidate b.json`
 * puts `--candidate` and `b.json` in the base group and leaves no candidate group.
 */
function rejectEmptyGroup(flag: string, files: readonly string[] | undefined): void {
  const first = files?.[0];
  if (first === undefined || !first.startsWith('-')) return;
  throw new UsageError(
    `${flag} is given no files, as ${first} follows it; list the runs of that side right ` +
      `after ${flag}, such as ${GROUP_EXAMPLE}, and pass a file whose name starts with a ` +
      'dash as ./NAME',
  );
}

/**
 * Rejects a second `--base` or `--candidate`, whose files commander would add to the first
 * one's group without a word. Commander keeps no count of an option, so this counts the flag
 * in the arguments the parent command passed on, up to a `--`.
 */
function rejectRepeatedGroupFlags(command: Command): void {
  const args = command.parent?.args ?? [];
  const end = args.indexOf('--');
  const options = end === -1 ? args : args.slice(0, end);
  for (const [flag, example] of [
    ['--base', 'a1.json a2.json'],
    ['--candidate', 'b1.json b2.json'],
  ] as const) {
    const count = options.filter((arg) => arg === flag || arg.startsWith(`${flag}=`)).length;
    if (count > 1) {
      throw new UsageError(
        `${flag} is given ${count} times, but compare takes one ${flag.slice(2)} group; ` +
          `list all its runs after one ${flag}, such as ${flag} ${example}`,
      );
    }
  }
}

/**
 * Rejects a file given more than once, in one group or in both, because a repeated run
 * narrows a group's range and can fake a noise band. Paths are compared resolved, so
 * `a.json` and `./a.json` are one file.
 */
function rejectRepeatedFiles(groups: readonly GroupFiles[]): void {
  const firstSpelling = new Map<string, string>();
  const repeats: string[] = [];
  for (const file of groups.flatMap((group) => group.files)) {
    const path = resolve(file);
    const first = firstSpelling.get(path);
    if (first === undefined) {
      firstSpelling.set(path, file);
    } else {
      repeats.push(first === file ? file : `${first} (again as ${file})`);
    }
  }
  if (repeats.length === 0) return;
  throw new UsageError(
    `${[...new Set(repeats)].join(', ')}: given more than once; pass each run once, as a ` +
      'repeated file narrows the range and can fake a noise band',
  );
}

/** Labels a one-file column with the file's base name, or its path when two share a name. */
function columnLabel(file: string, files: readonly string[]): string {
  const name = basename(file);
  const shared = files.filter((other) => basename(other) === name).length > 1;
  return shared ? file : name;
}

/**
 * Reads every file, so that one run of the command names every unusable one. Returns the
 * groups of the files read and one message per unusable file, once for a file given twice.
 */
async function readGroups(
  groups: readonly GroupFiles[],
): Promise<{ runGroups: RunGroup[]; problems: string[] }> {
  const problems = new Set<string>();
  const runGroups: RunGroup[] = [];
  for (const group of groups) {
    const runs: RunRecord[] = [];
    for (const file of group.files) {
      try {
        runs.push(await readRun(file));
      } catch (error) {
        if (!isCompareInputError(error)) throw error;
        problems.add(error.message);
      }
    }
    runGroups.push({ label: group.label, runs });
  }
  return { runGroups, problems: [...problems] };
}
