import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { policyHash } from '../harness/report/environment.js';

import type { ProviderCatalog } from '../platform/router/catalog.js';
import { loadPolicy } from '../platform/router/load-policy.js';
import {
  isPolicyValidationError,
  type PolicyValidationError,
} from '../platform/router/policy-errors.js';

import { type FileKind, isFileSystemError, unreadableMessage } from './unreadable-file.js';

/** Location of the JSON Schema of the `scalegate policy check --json` output. */
export const POLICY_CHECK_SCHEMA_URL = new URL(
  '../../reports/schema/policy-check.schema.json',
  import.meta.url,
);

/** Outcome of loading one policy file, as the platform would load it at start. */
export type PolicyFileCheck =
  | { kind: 'valid'; file: string; routes: number; hash: string }
  | { kind: 'invalid'; file: string; error: PolicyValidationError }
  | { kind: 'unreadable'; file: string; message: string };

/** Outcome of a file the loader could read, valid or not. */
export type ReadPolicyCheck = Exclude<PolicyFileCheck, { kind: 'unreadable' }>;

/** One problem of a policy file in the `--json` output. */
export interface PolicyCheckProblem {
  /** JSON Pointer of the value, or '' for a YAML syntax error or a problem with the whole file. */
  path: string;
  /** Line of the value in the file, counted from 1, or null when the loader found no position. */
  line: number | null;
  /** Column of the value, counted from 1, or null when `line` is null. */
  column: number | null;
  /** The loader's message, with its fix. */
  message: string;
}

/** Result for one policy file in the `--json` output. */
export interface PolicyFileResult {
  file: string;
  valid: boolean;
  /** sha256 of the file's text, as drill reports record it, or null for an invalid file. */
  hash: string | null;
  /** Number of routes, or null for an invalid file. */
  routes: number | null;
  /** Every problem the loader found, in its order, so none for a valid file. */
  problems: PolicyCheckProblem[];
}

/** The `--json` output, which reports/schema/policy-check.schema.json describes. */
export interface PolicyCheckOutput {
  schemaVersion: 1;
  files: PolicyFileResult[];
}

/**
 * Loads each file with `loadPolicy`, the loader the platform runs at start, and returns one
 * outcome per file in the order given.
 * @throws the loader's error when it fails for a reason other than an invalid policy or a file
 * that cannot be read.
 */
export async function checkPolicyFiles(
  files: readonly string[],
  catalog: ProviderCatalog,
): Promise<PolicyFileCheck[]> {
  const checks: PolicyFileCheck[] = [];
  // One file at a time, so YAML warnings on stderr come in the order of the files.
  for (const file of files) {
    checks.push(await checkPolicyFile(file, catalog));
  }
  return checks;
}

async function checkPolicyFile(file: string, catalog: ProviderCatalog): Promise<PolicyFileCheck> {
  try {
    const policy = await loadPolicy(file, catalog);
    const routes = Object.keys(policy.routes).length;
    const hash = policyHash(await readFile(file, 'utf8'));
    return { kind: 'valid', file, routes, hash };
  } catch (error) {
    if (isPolicyValidationError(error)) {
      return { kind: 'invalid', file, error };
    }
    if (isFileSystemError(error)) {
      return { kind: 'unreadable', file, message: unreadableMessage(file, error, POLICY_FILE) };
    }
    throw error;
  }
}

/** Names a policy file in the messages of a file that cannot be read. */
const POLICY_FILE: FileKind = {
  noun: 'policy file',
  folderFix: (folder) => `pass the policy files in it, such as ${join(folder, '*.yaml')}`,
};

/** Converts the outcomes to the `--json` output. */
export function policyCheckOutput(checks: readonly ReadPolicyCheck[]): PolicyCheckOutput {
  return { schemaVersion: 1, files: checks.map(toFileResult) };
}

function toFileResult(check: ReadPolicyCheck): PolicyFileResult {
  if (check.kind === 'valid') {
    const { file, hash, routes } = check;
    return { file, valid: true, hash, routes, problems: [] };
  }
  const problems = check.error.problems.map((problem) => ({
    path: problem.path,
    line: problem.location?.line ?? null,
    column: problem.location?.column ?? null,
    message: problem.message,
  }));
  return { file: check.file, valid: false, hash: null, routes: null, problems };
}

/**
 * Formats the outcomes as text: one summary line per valid file, the loader's problem list
 * per invalid file, and with several files a closing count.
 */
export function formatPolicyChecks(checks: readonly ReadPolicyCheck[]): string[] {
  const lines = checks.flatMap(formatPolicyCheck);
  if (checks.length > 1) {
    const invalid = checks.filter((check) => check.kind !== 'valid').length;
    lines.push(
      invalid === 0
        ? `all ${checks.length} policy files are valid`
        : `${invalid} of ${checks.length} policy files are invalid`,
    );
  }
  return lines;
}

function formatPolicyCheck(check: ReadPolicyCheck): string[] {
  if (check.kind === 'invalid') {
    // The loader's message: a heading, then `FILE:LINE:COL /json/path: message` per problem.
    return check.error.message.split('\n');
  }
  const routes = check.routes === 1 ? '1 route' : `${check.routes} routes`;
  return [`${check.file}: valid, ${routes}, hash ${check.hash}`];
}
