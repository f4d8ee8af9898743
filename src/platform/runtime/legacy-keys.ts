import type { Logger } from 'pino';

import type { PlatformDrivers } from './drivers.js';

/**
 * Logs and returns the start-up warning for keys in a layout that an earlier version left.
 * A failed read only loses the warning, so the platform starts anyway.
 */
export async function legacyKeyWarnings(
  drivers: Pick<PlatformDrivers, 'legacyKeys'>,
  keyPrefix: string,
  logger: Logger | undefined,
): Promise<string[]> {
  let keys: string[];
  try {
    keys = await drivers.legacyKeys();
  } catch (error) {
    logger?.warn(
      { err: error, redisKeyPrefix: keyPrefix },
      `looking for keys an earlier scalegate version left under key prefix ${keyPrefix} failed; the platform starts without that check`,
    );
    return [];
  }
  if (keys.length === 0) return [];
  const message = legacyKeysMessage(keys);
  logger?.warn({ redisKeyPrefix: keyPrefix, keys }, message);
  return [message];
}

/** Returns the start-up warning for keys in a layout that an earlier version left. */
export function legacyKeysMessage(keys: readonly string[]): string {
  return (
    `Redis keys ${keys.join(' and ')} hold every task's cost record or accepted id in the ` +
    'layout of an earlier scalegate version, which kept them for good; this version neither ' +
    'reads nor deletes them, so once their costs are no longer needed delete them with ' +
    `redis-cli UNLINK ${keys.join(' ')}`
  );
}
