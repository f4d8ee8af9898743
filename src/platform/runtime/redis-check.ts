import { Redis } from 'ioredis';

/** Raised when Redis does not reply to PING at platform start. */
export class RedisUnavailableError extends Error {
  readonly code = 'redis_unavailable';
  /** The URL without its password. */
  readonly url: string;

  constructor(url: string, reason: string) {
    super(
      `cannot reach Redis at ${url} (${reason}); start Redis there, pass a reachable --redis-url or REDIS_URL, or leave both empty to use memory drivers`,
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
 * Connects once and sends PING, giving up after `timeoutMs`; no reconnects.
 * @throws RedisUnavailableError naming the URL, without its password.
 */
export async function checkRedis(redisUrl: string, timeoutMs: number): Promise<void> {
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

function withoutPassword(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(unparsable URL)';
  }
}
