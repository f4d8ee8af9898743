import { readdirSync, type Stats, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';

import { InvalidArgumentError } from 'commander';

import { MAX_TIMER_MS } from '../faults/limits.js';
import { assertLoopbackHost, isNonLoopbackHostError, LOOPBACK_HOSTS } from '../faults/loopback.js';
import { parseTopology } from '../platform/runtime/topology.js';

// Option parsers for commander's `argParser`. Each throws InvalidArgumentError, which
// commander prints as `error: option '<flag>' argument '<value>' is invalid. <reason>`.

/** Parses a TCP port: an integer from 0 to 65535, where 0 picks a free port. */
export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new InvalidArgumentError('expected an integer from 0 to 65535 (0 picks a free port).');
  }
  return Number(value);
}

/** Parses a listen host, accepting only 127.0.0.0/8, ::1 and localhost. */
export function parseLoopbackHost(value: string): string {
  try {
    assertLoopbackHost(value, '--host');
  } catch (error) {
    if (isNonLoopbackHostError(error)) {
      throw new InvalidArgumentError(
        `expected a loopback host (${LOOPBACK_HOSTS}); use --host 127.0.0.1.`,
      );
    }
    throw error;
  }
  return value;
}

/** Largest seed: the seeded generators keep 32 bits of a seed, so larger seeds alias smaller ones. */
export const MAX_SEED = 4_294_967_295;

/**
 * Parses a seed, an integer from 0 to MAX_SEED. The generators of the load schedule and the
 * mock providers use the seed modulo 2^32, so --seed 4294967297 and -4294967295 would run the
 * same schedule as --seed 1 while the output recorded another seed.
 */
export function parseSeed(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || parsed > MAX_SEED) {
    throw new InvalidArgumentError(`expected an integer from 0 to ${MAX_SEED}.`);
  }
  return parsed;
}

/** Parses a safe integer, negative values included. */
export function parseInteger(value: string): number {
  const parsed = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError('expected an integer.');
  }
  return parsed;
}

/** Parses a safe integer of 1 or more. */
export function parsePositiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError('expected an integer of 1 or more.');
  }
  return parsed;
}

/**
 * Checks that a file can be written at `value`: it is not empty or spaces, its folder exists and
 * `value` is not a folder. Returns `value` unchanged.
 */
export function parseOutputFile(value: string): string {
  // An empty path would pass the folder checks below, because its folder is `.`, and fail
  // only when the output is written after the run. A path of spaces would name a file of
  // spaces in the current folder.
  if (value.trim() === '') {
    throw new InvalidArgumentError('expected the path of a file, such as runs/load.json.');
  }
  if (statOutputFile(value)?.isDirectory() === true) {
    throw new InvalidArgumentError('is a folder; pass the path of a file.');
  }
  if (statSync(dirname(value), { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new InvalidArgumentError(`folder ${dirname(value)} not found; create it first.`);
  }
  return value;
}

/**
 * Returns the stats of an output path, or undefined when nothing is there.
 * @throws InvalidArgumentError when a folder on the path is a file.
 */
function statOutputFile(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    throw new InvalidArgumentError(
      `${fileOnPath(path)} is a file, not a folder; pass a path inside a folder.`,
    );
  }
}

/** Returns the first folder of `path`, from its root down, that exists as a file. */
export function fileOnPath(path: string): string {
  const folders: string[] = [];
  for (let folder = dirname(path); folder !== dirname(folder); folder = dirname(folder)) {
    folders.unshift(folder);
  }
  for (const folder of folders) {
    // Below a file every stat fails with ENOTDIR, so the first file on the way down is it.
    if (statSync(folder, { throwIfNoEntry: false })?.isFile() === true) return folder;
  }
  return path;
}

/** Parses a finite number above 0. */
export function parsePositiveNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('expected a number above 0.');
  }
  return parsed;
}

/**
 * Parses a duration in milliseconds: an integer from `minMs` to 2,147,483,647, the timer
 * maximum. The error states that whole range, whichever bound `value` misses.
 */
export function parseDurationMsFrom(value: string, minMs: number): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < minMs || parsed > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `expected an integer number of ms from ${minMs} to ${MAX_TIMER_MS}.`,
    );
  }
  return parsed;
}

/** Checks that `value` names an existing regular file and returns it unchanged. */
export function parseExistingFile(value: string): string {
  let stats: Stats;
  try {
    stats = statSync(value);
  } catch {
    // A relative path is resolved from the working directory, so the message names the result.
    const location = isAbsolute(value) ? '' : ` at ${resolve(value)}`;
    throw new InvalidArgumentError(`file not found${location}; pass the path of an existing file.`);
  }
  if (stats.isDirectory()) {
    throw new InvalidArgumentError('a directory, not a file; pass the path of a file in it.');
  }
  if (!stats.isFile()) {
    throw new InvalidArgumentError('not a regular file; pass the path of a file.');
  }
  return value;
}

/**
 * Returns the bare profile names in `dir` (`provider-a` for `provider-a.yaml`), sorted,
 * or an empty list when the folder cannot be read.
 */
export function listProfileNames(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((entry) => ['.yaml', '.yml'].includes(extname(entry)))
    .map((entry) => entry.slice(0, -extname(entry).length))
    .sort();
}

/**
 * Help text of `--topology`. Sync tasks never use the workers, so the text gives where they run
 * and that the direct path has no executor price.
 */
export const TOPOLOGY_HELP =
  'workers=<n> async task workers, serverless_burst=enabled|disabled: enabled runs sync ' +
  'tasks on the serverless emulator, billed per invocation, disabled runs them in the ' +
  'gateway process, which no price covers';

/** Help text of `--prices`, the price table a started platform reads. */
export const PRICES_HELP =
  'price table with the USD prices of each provider model per million tokens and of the ' +
  'executors, which the cost per task and the worker pool bill come from (default: ' +
  'fixtures/prices.yaml of the scalegate checkout)';

/** Parses a `--topology` value, `workers=<n> serverless_burst=enabled|disabled`, and returns it. */
export function parseTopologyOption(value: string): string {
  // parseTopology gives an empty spec every default, which would hide an unset variable.
  if (value.trim() === '') {
    throw new InvalidArgumentError(
      'expected workers=<n>, serverless_burst=enabled|disabled or both, such as ' +
        "'workers=24 serverless_burst=enabled'; leave --topology out for that default.",
    );
  }
  try {
    parseTopology(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? `${error.message}.` : String(error));
  }
  return value;
}
