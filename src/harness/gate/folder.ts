/**
 * Gate folder: the paths a policy gate run writes under it, and the check that keeps a run from
 * overwriting files that no gate run wrote, such as the checkout's `reports/latest.json` when
 * the gate folder is the checkout itself.
 */
import { lstat, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { LATEST_POINTER } from '../report/writer.js';
import { replaceFile } from '../replace-file.js';

/** Folder under the gate folder that receives the PR policy's `<run-id>/` report folders. */
export const PR_REPORTS_DIR = 'reports';
/** Folder under the gate folder that receives the base policy's `<run-id>/` report folders. */
export const BASE_REPORTS_DIR = 'base-reports';
/** Runbook of the PR policy's drill, under the gate folder. */
export const GATE_RUNBOOK = 'scaling_runbook.md';
/** Pull-request comment, under the gate folder. */
export const GATE_COMMENT = 'comment.md';
/** Every figure of the comparison as JSON, under the gate folder. */
export const GATE_COMPARISON = 'comparison.json';

/**
 * File that a gate run writes into its gate folder. A later run overwrites the outputs of a
 * folder that has it, and rejects a folder that contains those outputs without it.
 */
export const GATE_FOLDER_MARKER = '.scalegate-gate';

const GATE_FOLDER_MARKER_TEXT =
  'scalegate gate writes its reports, runbook, comparison and pull-request comment in this ' +
  'folder and overwrites them on each run.\n';

/** Raised when the gate folder contains outputs that a gate run would overwrite but did not write. */
export class GateFolderInUseError extends Error {
  override readonly name = 'GateFolderInUseError';
  readonly code = 'gate_folder_in_use';

  /**
   * @param folder the gate folder as it was given.
   * @param outputs paths under `folder` that a gate run would overwrite, a folder with a
   *   trailing slash.
   * @param subject words that name the folder in the message, such as `--gate-dir .`.
   */
  constructor(
    readonly folder: string,
    readonly outputs: readonly string[],
    subject: string,
  ) {
    const pronoun = outputs.length === 1 ? 'it' : 'them';
    super(
      `${subject} contains ${joinWords(outputs)} and has no ${GATE_FOLDER_MARKER} file, so ` +
        `scalegate gate did not write ${pronoun} and would overwrite ${pronoun}. Pass a new ` +
        'or empty folder, or delete this folder if only an earlier gate run wrote to it.',
    );
  }
}

/**
 * Raised when a path that a gate run writes under the gate folder is a symbolic link. The run
 * would write through it into another folder or file, such as one a checked-out pull request
 * points its `gate/.scalegate-gate` link at.
 */
export class GateFolderLinkError extends Error {
  override readonly name = 'GateFolderLinkError';
  readonly code = 'gate_folder_link';

  /**
   * @param links paths under the gate folder that are symbolic links.
   * @param subject words that name the folder in the message, such as `--gate-dir .`.
   */
  constructor(
    readonly links: readonly string[],
    subject: string,
  ) {
    const one = links.length === 1;
    super(
      `${subject} contains ${joinWords(links)}, ${one ? 'a symbolic link' : 'symbolic links'} ` +
        `that a gate run would write through. Delete ${one ? 'it' : 'them'}, or pass a new or ` +
        'empty folder.',
    );
  }
}

/** Returns whether `value` is a {@link GateFolderInUseError}. */
export function isGateFolderInUseError(value: unknown): value is GateFolderInUseError {
  return value instanceof GateFolderInUseError;
}

/**
 * Checks that a gate run may write to `gateDir`, then deletes the comment and comparison that
 * an earlier run left there, which would otherwise pass for this run's when this run stops
 * before writing them. A missing folder is left missing.
 * @param subject words that name the folder in the error. @defaultValue `gate folder <gateDir>`
 * @throws {@link GateFolderInUseError} when the folder has no {@link GATE_FOLDER_MARKER} file
 *   and contains a path that a gate run writes, such as `reports/latest.json`. Nothing is deleted.
 * @throws {@link GateFolderLinkError} when a path that a gate run writes is a symbolic link.
 *   Nothing is deleted.
 */
export async function prepareGateFolder(
  gateDir: string,
  subject = `gate folder ${gateDir}`,
): Promise<void> {
  const links = await linkedOutputs(gateDir);
  if (links.length > 0) throw new GateFolderLinkError(links, subject);
  if (!(await pathExists(join(gateDir, GATE_FOLDER_MARKER)))) {
    const outputs = await existingOutputs(gateDir);
    if (outputs.length > 0) throw new GateFolderInUseError(gateDir, outputs, subject);
  }
  await rm(join(gateDir, GATE_COMMENT), { force: true });
  await rm(join(gateDir, GATE_COMPARISON), { force: true });
}

/** Creates `gateDir` when it is missing and writes its {@link GATE_FOLDER_MARKER} file. */
export async function createGateFolder(gateDir: string): Promise<void> {
  await mkdir(gateDir, { recursive: true });
  await replaceFile(join(gateDir, GATE_FOLDER_MARKER), GATE_FOLDER_MARKER_TEXT);
}

/** Paths under the gate folder that a gate run writes, or writes into. */
const GATE_PATHS = [
  GATE_FOLDER_MARKER,
  PR_REPORTS_DIR,
  BASE_REPORTS_DIR,
  GATE_RUNBOOK,
  `base-${GATE_RUNBOOK}`,
  GATE_COMMENT,
  GATE_COMPARISON,
];

/** Returns the paths of {@link GATE_PATHS} that are symbolic links under `gateDir`. */
async function linkedOutputs(gateDir: string): Promise<string[]> {
  const links: string[] = [];
  for (const name of GATE_PATHS) {
    const stats = await lstat(join(gateDir, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (stats?.isSymbolicLink() === true) links.push(name);
  }
  return links;
}

/**
 * Returns the paths under `gateDir` that a gate run would overwrite or write into. A reports
 * folder is named by its `latest.json` when it has one, because each drill replaces that file.
 */
async function existingOutputs(gateDir: string): Promise<string[]> {
  const outputs: string[] = [];
  for (const reportsDir of [PR_REPORTS_DIR, BASE_REPORTS_DIR]) {
    if (await pathExists(join(gateDir, reportsDir, LATEST_POINTER))) {
      outputs.push(`${reportsDir}/${LATEST_POINTER}`);
    } else if (await pathExists(join(gateDir, reportsDir))) {
      outputs.push(`${reportsDir}/`);
    }
  }
  for (const file of [GATE_RUNBOOK, GATE_COMMENT, GATE_COMPARISON]) {
    if (await pathExists(join(gateDir, file))) outputs.push(file);
  }
  return outputs;
}

/** Returns whether anything, a dangling symbolic link included, is at `path`. */
async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
}

/** Joins words as `a`, `a and b` or `a, b and c`. */
function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}
