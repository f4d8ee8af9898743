import { Redis } from 'ioredis';

import { isLoopbackUrlHost, LOOPBACK_HOSTS } from '../../faults/loopback.js';

/** Raised for a Redis URL that does not parse, uses another scheme or names a host off loopback. */
export class RedisUrlError extends RangeError {
  readonly code = 'invalid_redis_url';

  constructor(problem: string) {
    super(
      `invalid --redis-url or REDIS_URL: ${problem}; expected redis://127.0.0.1:6379 or another redis:// URL on a loopback host (${LOOPBACK_HOSTS})`,
    );
    this.name = 'RedisUrlError';
  }
}

/** Type guard for {@link RedisUrlError}. */
export function isRedisUrlError(value: unknown): value is RedisUrlError {
  return value instanceof RedisUrlError;
}

/**
 * Checks that `redisUrl` is a redis:// or rediss:// URL on a loopback host, before
 * anything connects or resolves a name. The message leaves out the URL, which may
 * hold a password.
 * @throws RedisUrlError naming the problem.
 */
export function assertRedisUrl(redisUrl: string): void {
  if (!URL.canParse(redisUrl)) throw new RedisUrlError('not a URL');
  const url = new URL(redisUrl);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new RedisUrlError(`scheme ${url.protocol} is not redis: or rediss:`);
  }
  if (!isLoopbackUrlHost(url)) {
    throw new RedisUrlError(`host ${url.hostname} is not a loopback host`);
  }
}

/** Redis error replies that mean the server replied but refused the credentials. */
const AUTH_FAILURE = /\b(WRONGPASS|NOAUTH|NOPERM)\b|invalid password/i;

/** Raised when Redis does not reply to PING at platform start, or refuses the login. */
export class RedisUnavailableError extends Error {
  readonly code = 'redis_unavailable';
  /** The URL without its password. */
  readonly url: string;

  constructor(url: string, reason: string) {
    super(
      AUTH_FAILURE.test(reason)
        ? `Redis at ${url} rejected the login (${reason}); fix the user name and password in --redis-url or REDIS_URL`
        : `cannot reach Redis at ${url} (${reason}); start Redis there, pass a reachable --redis-url or REDIS_URL, or leave both empty to use memory drivers`,
    );
    this.name = 'RedisUnavailableError';
    this.url = url;
  }
}

/** Type guard for {@link RedisUnavailableError}. */
export function isRedisUnavailableError(value: unknown): value is RedisUnavailableError {
  return value instanceof RedisUnavailableError;
}

/**
 * Checks the URL, then connects once and sends PING, giving up after `timeoutMs`;
 * no reconnects.
 * @throws RedisUrlError for an invalid URL, RedisUnavailableError naming the URL
 *   without its password when Redis does not reply.
 */
export async function checkRedis(redisUrl: string, timeoutMs: number): Promise<void> {
  assertRedisUrl(redisUrl);
  const shown = withoutPassword(redisUrl);
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no PING reply within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), timeout]);
  } catch (error) {
    const reason = lastError?.message ?? (error instanceof Error ? error.message : String(error));
    throw new RedisUnavailableError(shown, reason);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/**
 * Query parameters that ioredis reads as credentials. ioredis 5 copies every query
 * parameter of a Redis URL into its connection options, so `?password=...` logs in
 * as the user-info part of the URL does.
 */
const CREDENTIAL_PARAMS = /(password|username)$/i;

/** Returns the URL without its user name and password, for logs and error messages. */
export function withoutCredentials(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    url.username = '';
    url.password = '';
    maskCredentialParams(url);
    return url.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function withoutPassword(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    if (url.password !== '') url.password = '***';
    maskCredentialParams(url);
    return url.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** Replaces the value of each credential query parameter with `***`. */
function maskCredentialParams(url: URL): void {
  const names = [...url.searchParams.keys()].filter((name) => CREDENTIAL_PARAMS.test(name));
  for (const name of new Set(names)) url.searchParams.set(name, '***');
}
