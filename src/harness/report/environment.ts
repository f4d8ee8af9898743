import { createHash } from 'node:crypto';
import { cpus, platform, totalmem } from 'node:os';

import type { Environment, MachineInfo } from './types.js';

/** Describes the machine this process runs on. */
export function describeMachine(): MachineInfo {
  return {
    cpus: Math.max(1, cpus().length),
    memoryBytes: totalmem(),
    nodeVersion: process.version,
    platform: platform(),
  };
}

/** Returns the sha256 hex digest of a policy file's text, as reports record it. */
export function policyHash(policyText: string): string {
  return createHash('sha256').update(policyText).digest('hex');
}

/** Builds the environment block of a report for this machine. */
export function collectEnvironment(
  run: Omit<Environment, 'machine'>,
  machine: MachineInfo = describeMachine(),
): Environment {
  return { ...run, machine };
}
