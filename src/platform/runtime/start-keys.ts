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
 * Reads whether any key is under `keyPrefix`, as the platform's keys start with `<prefix>:`.
 * Call it before the start creates a key there. A `generated` prefix, random for this start,
 * has none. Otherwise an EXISTS of the queue's meta key, which every earlier start on the
 * prefix created, settles it, and only a prefix without that key is scanned.
 * NOTE: that scan reads the whole key space, so on a Redis with millions of keys the first
 * start on a new named prefix takes seconds longer.
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
      // NOTE: other platform processes may write keys on a prefix that had keys, and this
      // start cannot tell their keys from its own, so it leaves its keys there. A second
      // process starting on the same empty prefix at the same moment loses its keys here.
      if (hadKeys) return;
      await withRedis(redisUrl, (redis) => deleteKeysUnder(redis, keyPrefix));
    },
  };
}

/** Runs `use` on a connection of its own to `redisUrl` and closes it after. */
async function withRedis<T>(redisUrl: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  // Commands fail with their own errors; the connection's error events only repeat them.
  redis.on('error', () => undefined);
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}
