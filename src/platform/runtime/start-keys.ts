import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { Redis } from 'ioredis';
import type { Logger } from 'pino';

import { QUEUE_NAME } from './drivers.js';
import { deleteKeysUnder, hasKeysUnder } from './prefix-keys.js';

/** Lifetime of a start claim in ms. Each start registered on it renews it every third of this. */
export const START_CLAIM_TTL_MS = 30_000;

/** Maximum wait of a start for another start's removal of its keys, in ms. */
export const REMOVAL_WAIT_MS = 60_000;

/** Interval between the checks of a start that waits for another start's removal, in ms. */
const REMOVAL_POLL_MS = 100;

/** Keys a platform start found under its key prefix, read before it created any. */
export interface StartKeys {
  /**
   * Whether some key was under the prefix before the start, the start claim of another start
   * still in progress included.
   */
  readonly hadKeys: boolean;
  /**
   * Deletes every key under the prefix when this start found the prefix without keys and no
   * other start registered on it before this call, so a failed start leaves nothing behind.
   * Deletes nothing otherwise. Ends this start's registration either way.
   */
  removeCreated(): Promise<void>;
  /** Ends this start's registration on the start claim, after a start that succeeded. */
  release(): Promise<void>;
}

/** Returns the key of the start claim under `keyPrefix`. */
export function startClaimKey(keyPrefix: string): string {
  return `${keyPrefix}:start-claim`;
}

// The start claim is a hash. Its field `owner` is the id of the start that created it, and
// `starts` is the count of starts registered on it, with a field `start:<id>` for each. The
// field `shared` is set once a second start registered, and `cleaning` while the owner deletes
// the prefix's keys.

/**
 * Registers start ARGV[1] on claim KEYS[1] with lifetime ARGV[2] ms. Returns `claimed` when it
 * created the claim, `joined` when the claim already exists, and `cleaning` without registering
 * while the owner deletes the prefix's keys.
 */
const REGISTER_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'cleaning') == 1 then return 'cleaning' end
local result = 'claimed'
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'shared', '1')
  result = 'joined'
else
  redis.call('HSET', KEYS[1], 'owner', ARGV[1])
end
redis.call('HSET', KEYS[1], 'start:' .. ARGV[1], '1')
redis.call('HINCRBY', KEYS[1], 'starts', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return result
`;

/** Ends the registration of start ARGV[1] on claim KEYS[1], deleting the claim after the last. */
const UNREGISTER_SCRIPT = `
if redis.call('HDEL', KEYS[1], 'start:' .. ARGV[1]) == 1
  and redis.call('HINCRBY', KEYS[1], 'starts', -1) <= 0 then
  redis.call('DEL', KEYS[1])
end
return 1
`;

/**
 * Marks claim KEYS[1] as cleaning, with lifetime ARGV[2] ms, and returns 1 when start ARGV[1]
 * owns it and no other start registered. Otherwise ends the registration of ARGV[1] as
 * UNREGISTER_SCRIPT does and returns 0.
 */
const BEGIN_REMOVAL_SCRIPT = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1]
  and redis.call('HEXISTS', KEYS[1], 'shared') == 0 then
  redis.call('HSET', KEYS[1], 'cleaning', '1')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('HDEL', KEYS[1], 'start:' .. ARGV[1]) == 1
  and redis.call('HINCRBY', KEYS[1], 'starts', -1) <= 0 then
  redis.call('DEL', KEYS[1])
end
return 0
`;

/** Renews claim KEYS[1] for ARGV[2] ms while start ARGV[1] is registered on it. */
const RENEW_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'start:' .. ARGV[1]) == 1 then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

/** Deletes claim KEYS[1] when start ARGV[1] owns it. */
const END_REMOVAL_SCRIPT = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

/**
 * Reads whether any key is under `keyPrefix` before the start creates one. A `generated`
 * prefix has none. On any other prefix the start first registers on the prefix's start claim,
 * and stays registered until `removeCreated` or `release`. A start that finds the claim held by
 * another start in progress counts the prefix as used, and the claim's owner then deletes no
 * keys on failure, so two starts on one new prefix never delete each other's keys. A start that
 * creates the claim reads the queue's meta key, which every earlier start on the prefix created,
 * and scans the prefix only when that key is missing. A start that finds the owner deleting the
 * keys of its failed start waits up to {@link REMOVAL_WAIT_MS} for the deletion to end.
 * NOTE: that scan reads the whole key space, which can take seconds on a Redis with millions of keys.
 */
export async function recordStartKeys(
  redisUrl: string,
  keyPrefix: string,
  generated: boolean,
  logger?: Logger,
): Promise<StartKeys> {
  if (generated) {
    return {
      hadKeys: false,
      removeCreated: () => withRedis(redisUrl, (redis) => deleteKeysUnder(redis, keyPrefix)),
      release: async () => undefined,
    };
  }
  const claim = new StartClaim(redisUrl, keyPrefix, logger);
  let hadKeys: boolean;
  try {
    hadKeys = await claim.register();
  } catch (error) {
    // The claim expires by itself when this fails too, so the start's own error is raised.
    await claim.end().catch(() => undefined);
    throw error;
  }
  return {
    hadKeys,
    removeCreated: async () => {
      if (hadKeys) await claim.end();
      else await claim.removeKeys();
    },
    release: () => claim.end(),
  };
}

/** One start's registration on the start claim of a named key prefix. */
class StartClaim {
  readonly #redis: Redis;
  readonly #keyPrefix: string;
  readonly #key: string;
  readonly #startId = randomUUID();
  readonly #logger: Logger | undefined;
  #renewal: NodeJS.Timeout | undefined;
  /** Set once the register script ran, so `end` runs the unregister script. */
  #registered = false;
  #ended = false;

  constructor(redisUrl: string, keyPrefix: string, logger: Logger | undefined) {
    this.#redis = connect(redisUrl);
    this.#keyPrefix = keyPrefix;
    this.#key = startClaimKey(keyPrefix);
    this.#logger = logger;
  }

  /** Registers this start and returns whether the prefix counts as used. */
  async register(): Promise<boolean> {
    const giveUpAt = performance.now() + REMOVAL_WAIT_MS;
    let result = await this.#eval(REGISTER_SCRIPT);
    while (result === 'cleaning') {
      if (performance.now() >= giveUpAt) {
        throw new Error(
          `timed out after ${REMOVAL_WAIT_MS} ms waiting for a failed start to delete the keys under key prefix ${this.#keyPrefix}; start again, or delete the keys ${this.#keyPrefix}:* yourself`,
        );
      }
      await sleep(REMOVAL_POLL_MS);
      result = await this.#eval(REGISTER_SCRIPT);
    }
    this.#registered = true;
    // NOTE: a start whose renewals fail for START_CLAIM_TTL_MS loses the claim, and a start
    // that registers after that counts the prefix as new when it finds no key there.
    this.#renewal = setInterval(() => {
      this.#eval(RENEW_SCRIPT).catch((error: unknown) =>
        this.#logger?.warn(
          { err: error, redisKeyPrefix: this.#keyPrefix },
          `renewing the start claim ${this.#key} failed; the next renewal runs in ${START_CLAIM_TTL_MS / 3} ms`,
        ),
      );
    }, START_CLAIM_TTL_MS / 3);
    this.#renewal.unref();
    if (result === 'joined') return true;
    if ((await this.#redis.exists(`${this.#keyPrefix}:${QUEUE_NAME}:meta`)) === 1) return true;
    return hasKeysUnder(this.#redis, this.#keyPrefix, this.#key);
  }

  /**
   * Deletes every key under the prefix when this start owns the claim and no other start
   * registered on it, then ends the registration.
   */
  async removeKeys(): Promise<void> {
    try {
      if ((await this.#eval(BEGIN_REMOVAL_SCRIPT)) !== 1) return;
      // The claim stays until the keys are gone, so a start that registers meanwhile waits.
      // When the deletion fails, the claim expires START_CLAIM_TTL_MS after its last renewal.
      await deleteKeysUnder(this.#redis, this.#keyPrefix, this.#key);
      await this.#eval(END_REMOVAL_SCRIPT);
    } finally {
      this.#close();
    }
  }

  /** Ends the registration, deleting the claim when no other start is registered on it. */
  async end(): Promise<void> {
    try {
      if (this.#registered) await this.#eval(UNREGISTER_SCRIPT);
    } finally {
      this.#close();
    }
  }

  #close(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#renewal);
    this.#redis.disconnect();
  }

  #eval(script: string): Promise<unknown> {
    return this.#redis.eval(script, 1, this.#key, this.#startId, START_CLAIM_TTL_MS);
  }
}

/** Opens a connection to `redisUrl` whose commands fail after one retry. */
function connect(redisUrl: string): Redis {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  // Commands fail with their own errors, which the connection's error events only repeat.
  redis.on('error', () => undefined);
  return redis;
}

/** Runs `use` on a connection of its own to `redisUrl` and closes it after. */
async function withRedis<T>(redisUrl: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = connect(redisUrl);
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}
