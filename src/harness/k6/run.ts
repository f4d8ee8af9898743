import { packagePath } from '../../package-path.js';
import { DEFAULT_DEMO_KEYS_PATH } from '../../platform/tenants/demo-keys.js';
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stopReasonOf, stoppedEarlyReason } from '../load/health.js';
import { loadTenantKeys, pickKeys } from '../load/keys.js';
import type { LoadResult } from '../load/result.js';
import type { ScenarioSpec } from '../scenario/types.js';
import { type CompileK6Options, compileScenarioToK6 } from './compile.js';
import { convertK6Summary } from './convert.js';

/** Raised when no executable `k6` is on PATH. */
export class K6NotFoundError extends Error {
  readonly code = 'K6_NOT_FOUND';

  constructor(readonly searched: readonly string[]) {
    super('k6 was not found on PATH; install k6 or run with --engine embedded');
    this.name = 'K6NotFoundError';
  }
}

export function isK6NotFoundError(error: unknown): error is K6NotFoundError {
  return error instanceof K6NotFoundError;
}

/** Raised when k6 exits without writing a summary, or runs past its time limit. */
export class K6RunError extends Error {
  readonly code = 'K6_RUN_FAILED';
}

export interface RunK6Options extends CompileK6Options {
  /** Tenant id to API key; when absent the keys are read from `keysFile`. */
  keys?: Record<string, string>;
  /** @defaultValue 'fixtures/demo-keys.yaml' */
  keysFile?: string;
  /** @defaultValue 'scenarios/k6/entry.ts' */
  entryScript?: string;
  /** Time allowed beyond the scenario duration before k6 is killed. @defaultValue 60000 */
  graceMs?: number;
  /** @defaultValue process.env.PATH */
  path?: string;
  /**
   * Stops k6 early with SIGINT and marks the result invalid. NOTE: whether k6 still writes
   * its summary after SIGINT is unverified; `readSummary` fails the run when it does not.
   */
  signal?: AbortSignal;
}

/** Returns the first executable `k6` on PATH, or undefined. */
export async function findK6(path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter((d) => d.length > 0)) {
    const candidate = join(dir, process.platform === 'win32' ? 'k6.exe' : 'k6');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Returns the first executable `k6` on PATH. @throws K6NotFoundError when PATH has none. */
export async function requireK6(path = process.env.PATH ?? ''): Promise<string> {
  const binary = await findK6(path);
  if (binary === undefined)
    throw new K6NotFoundError(path.split(delimiter).filter((d) => d.length > 0));
  return binary;
}

/**
 * Runs a scenario with the k6 binary on PATH and converts its summary.
 * @throws K6NotFoundError when PATH has no k6.
 */
export async function runK6(
  scenario: ScenarioSpec,
  options: RunK6Options = {},
): Promise<LoadResult> {
  const binary = await requireK6(options.path ?? process.env.PATH ?? '');
  // NOTE: no k6 binary exists on the build machines, so this path has not been run end to end.
  const plan = compileScenarioToK6(scenario, options);
  const tenantIds = scenario.tenants.map((tenant) => tenant.tenantId);
  plan.workload.keys =
    options.keys === undefined
      ? await loadTenantKeys(options.keysFile ?? DEFAULT_DEMO_KEYS_PATH, tenantIds)
      : pickKeys('options.keys', options.keys, tenantIds);
  const dir = await mkdtemp(join(tmpdir(), 'scalegate-k6-'));
  try {
    const planFile = join(dir, 'plan.json');
    const summaryFile = join(dir, 'summary.json');
    await writeFile(planFile, JSON.stringify(plan), { mode: 0o600 });
    const startedAt = Date.now();
    const limitMs = scenario.durationSec * 1000 + (options.graceMs ?? 60_000);
    await spawnK6(
      binary,
      options.entryScript ?? packagePath('scenarios/k6/entry.ts'),
      planFile,
      summaryFile,
      limitMs,
      options.signal,
    );
    const summary = await readSummary(summaryFile);
    const result = convertK6Summary(summary, {
      scenario: scenario.name,
      target: scenario.target,
      startedAt,
      durationSec: scenario.durationSec,
    });
    if (options.signal?.aborted === true) {
      const stopped = stoppedEarlyReason(stopReasonOf(options.signal));
      result.health = { valid: false, reasons: [...result.health.reasons, stopped] };
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function spawnK6(
  binary: string,
  script: string,
  planFile: string,
  summaryFile: string,
  limitMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['run', '--quiet', script], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, SCALEGATE_K6_PLAN: planFile, SCALEGATE_K6_SUMMARY: summaryFile },
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), limitMs);
    const interrupt = (): void => {
      child.kill('SIGINT');
    };
    if (signal?.aborted === true) interrupt();
    else signal?.addEventListener('abort', interrupt, { once: true });
    const cleanUp = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', interrupt);
    };
    child.on('error', (error) => {
      cleanUp();
      reject(new K6RunError(`k6 failed to start: ${error.message}`));
    });
    // Exit code 99 means thresholds failed; the summary is still written and converted.
    child.on('exit', () => {
      cleanUp();
      resolve();
    });
  });
}

async function readSummary(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new K6RunError(`k6 wrote no readable summary at ${file}: ${reason}`);
  }
}
