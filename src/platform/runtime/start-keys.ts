import { Redis } from 'ioredis';

import { QUEUE_NAME } from './drivers.js';
import { deleteKeysUnder, hasKeysUnder } from './prefix-keys.js';

/** Keys a platform start found under its key prefix, read before it created any. */
export interface StartKeys {
  /** Whether some key was under the prefix before the start. */
  readonly hadKeys: boolean;
  /**
   * Deletes every key under the prefix when the prefix had none before the start, so a failed
   * start leaves nothing behind. Deletes nothing when it had some.
   */
  removeCreated(): Promise<void>;
}

/**
 * Reads whether any key is under `keyPrefix` before the start creates one. A `generated`
 * prefix has none, and a prefix with the queue's meta key was used before. Any other is scanned.
 * NOTE: that scan reads the whole key space, which can take seconds on a Redis with millions of keys.
 */
export async function recordStartKeys(
  redisUrl: string,
  keyPrefix: string,
  generated: boolean,
): Promise<StartKeys> {
  const hadKeys =
    !generated &&
    (await withRedis(redisUrl, async (redis) => {
      if ((await redis.exists(`${keyPrefix}:${QUEUE_NAME}:meta`)) === 1) return true;
      return hasKeysUnder(redis, keyPrefix);
    }));
  return {
    hadKeys,
    removeCreated: async () => {
      // NOTE: a prefix that had keys keeps this start's keys too, because other processes may
      // write there. A process starting on the same new prefix at the same moment loses its keys.
      if (hadKeys) return;
      await withRedis(redisUrl, (redis) => deleteKeysUnder(redis, keyPrefix));
    },
  };
}

/** Runs `use` on a connection of its own to `redisUrl` and closes it after. */
async function withRedis<T>(redisUrl: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  // Commands fail with their own errors, which the connection's error events only repeat.
  redis.on('error', () => undefined);
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}
