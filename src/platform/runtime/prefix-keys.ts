import type { Redis } from 'ioredis';

/** COUNT of each SCAN call: a hint of how many keys Redis examines per call. */
const SCAN_COUNT = 500;

/**
 * Returns the SCAN MATCH pattern of the keys under `keyPrefix`, which all start with
 * `<prefix>:`. The prefix's wildcard characters are escaped, and the colon keeps the keys of
 * a longer prefix, such as `run-10` beside `run-1`, out of the match.
 */
export function keysPattern(keyPrefix: string): string {
  return `${keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
}

/** Yields the keys under `keyPrefix` one SCAN reply at a time. A reply may contain none. */
async function* keyBatchesUnder(redis: Redis, keyPrefix: string): AsyncGenerator<string[]> {
  const pattern = keysPattern(keyPrefix);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
    yield keys;
    cursor = next;
  } while (cursor !== '0');
}

/**
 * Returns whether some key is under `keyPrefix`, scanning until it finds one. The key `except`,
 * when given, does not count.
 */
export async function hasKeysUnder(
  redis: Redis,
  keyPrefix: string,
  except?: string,
): Promise<boolean> {
  for await (const keys of keyBatchesUnder(redis, keyPrefix)) {
    if (keys.some((key) => key !== except)) return true;
  }
  return false;
}

/** Deletes every key under `keyPrefix` but the key `except`, when given. */
export async function deleteKeysUnder(
  redis: Redis,
  keyPrefix: string,
  except?: string,
): Promise<void> {
  for await (const keys of keyBatchesUnder(redis, keyPrefix)) {
    const deleted = keys.filter((key) => key !== except);
    if (deleted.length > 0) await redis.del(...deleted);
  }
}
