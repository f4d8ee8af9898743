import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpus, platform, totalmem } from 'node:os';
import { promisify } from 'node:util';

import { packagePath } from '../../package-path.js';
import type { Environment, MachineInfo } from './types.js';

/** Describes the machine this process runs on. */
export function describeMachine(): Required<MachineInfo> {
  const processors = cpus();
  return {
    cpus: Math.max(1, processors.length),
    // Some virtual machines and containers report an empty model name.
    cpuModel: processors[0]?.model.trim() || 'unknown',
    memoryBytes: totalmem(),
    nodeVersion: process.version,
    platform: platform(),
  };
}

/** Returns the sha256 hex digest of a policy file's text, as reports record it. */
export function policyHash(policyText: string): string {
  return createHash('sha256').update(policyText).digest('hex');
}

/**
 * Returns the short commit of the scalegate checkout this code runs from, whatever the
 * working directory, or `unknown` outside a git checkout or without git on PATH.
 */
export async function gitCommit(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: packagePath(''),
    });
    return stdout.trim();
  } catch {
    return 'unknown';
  }
}

/** Builds the environment block of a report for this machine. */
export function collectEnvironment(
  run: Omit<Environment, 'machine'>,
  machine: MachineInfo = describeMachine(),
): Environment {
  return { ...run, machine };
}
