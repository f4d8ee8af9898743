import type { Logger } from 'pino';

import { type ConfigFingerprint, configMismatchMessage, sameConfig } from './config-fingerprint.js';
import { PrefixProcesses } from './prefix-processes.js';

export interface ConfigCheckWiring {
  redisUrl: string;
  keyPrefix: string;
  /** Id of this process, which other processes' warnings name. */
  processId: string;
  fingerprint: ConfigFingerprint;
  /** Lifetime of this process's entry among the running processes, in ms. */
  leaseMs: number;
  logger?: Logger;
}

/** A started config check: the registry entry to close at stop, and what the start found. */
export interface StartedConfigCheck {
  processes: PrefixProcesses;
  /** One message per running process whose config differed at start. */
  warnings: string[];
  /** Fingerprint of each other process running at start; empty when the first write failed. */
  others: ReadonlyMap<string, ConfigFingerprint>;
}

/**
 * Records this process among the running platform processes on its key prefix and warns of
 * each other process whose tenants, route policy, price table or shared settings differ:
 * those running at start, and those that start later, once each. A failed first write is
 * logged, and the renewals that follow it compare again.
 */
export async function startConfigCheck(wiring: ConfigCheckWiring): Promise<StartedConfigCheck> {
  const { keyPrefix, fingerprint, logger } = wiring;
  const reported = new Set<string>();
  const warnAboutNew = (others: ReadonlyMap<string, ConfigFingerprint>): string[] => {
    const messages: string[] = [];
    for (const [otherProcess, other] of others) {
      if (reported.has(otherProcess) || sameConfig(fingerprint, other)) continue;
      reported.add(otherProcess);
      const message = configMismatchMessage(keyPrefix, fingerprint, otherProcess, other);
      const fields = { redisKeyPrefix: keyPrefix, otherProcess, config: fingerprint };
      logger?.warn({ ...fields, otherConfig: other }, message);
      messages.push(message);
    }
    return messages;
  };
  const processes = new PrefixProcesses({
    redisUrl: wiring.redisUrl,
    keyPrefix,
    processId: wiring.processId,
    fingerprint,
    leaseMs: wiring.leaseMs,
    onRenewed: (others) => void warnAboutNew(others),
    // Renewals fail all through a Redis outage, which the Redis monitor logs already.
    onError: (error) => logger?.debug({ err: error }, 'renewing the running process entry failed'),
  });
  try {
    const others = await processes.start();
    return { processes, warnings: warnAboutNew(others), others };
  } catch (error) {
    logger?.warn(
      { err: error, redisKeyPrefix: keyPrefix },
      `recording this process among the platform processes on key prefix ${keyPrefix} failed, so its tenants, route policy, price table and settings were not compared with theirs; the next renewal compares them`,
    );
    return { processes, warnings: [], others: new Map() };
  }
}
