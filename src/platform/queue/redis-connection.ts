/** Turns a redis:// URL into ioredis options for BullMQ. */
/** Connection settings accepted by both ioredis and BullMQ. */
export interface RedisConnectionSettings {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  maxRetriesPerRequest: null;
}

/**
 * Parses `redis://[user:password@]host[:port][/db]`. The host defaults to
 * 127.0.0.1 and the port to 6379. Commands wait through reconnects
 * (`maxRetriesPerRequest: null`), which BullMQ workers require.
 */
export function redisOptionsFromUrl(redisUrl: string): RedisConnectionSettings {
  const url = parseRedisUrl(redisUrl);
  const options: RedisConnectionSettings = {
    host: url.hostname === '' ? '127.0.0.1' : url.hostname,
    port: url.port === '' ? 6379 : Number(url.port),
    db: databaseIndex(url.pathname, redisUrl),
    maxRetriesPerRequest: null,
  };
  if (url.username !== '') {
    options.username = decodeURIComponent(url.username);
  }
  if (url.password !== '') {
    options.password = decodeURIComponent(url.password);
  }
  return options;
}

function parseRedisUrl(redisUrl: string): URL {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    throw new TypeError(`connection must be a redis:// URL, got ${JSON.stringify(redisUrl)}`);
  }
  if (url.protocol !== 'redis:') {
    throw new TypeError(
      `connection must use the redis: protocol, got ${JSON.stringify(url.protocol)}`,
    );
  }
  return url;
}

function databaseIndex(pathname: string, redisUrl: string): number {
  const digits = pathname.replace(/^\//, '');
  if (digits === '') {
    return 0;
  }
  if (!/^\d{1,2}$/.test(digits)) {
    throw new TypeError(`connection database must be a number, got ${JSON.stringify(redisUrl)}`);
  }
  return Number(digits);
}
