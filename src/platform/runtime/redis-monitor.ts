import { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { ReadinessCheck, ReadinessResult } from '../gateway/ports.js';
import { unavailableReason } from '../gateway/unavailable.js';
import { withoutCredentials } from './redis-check.js';

export interface RedisMonitorOptions {
  redisUrl: string;
  /** Receives one warning when Redis stops replying and one line when it replies again. */
  logger?: Logger;
  /** Time between PINGs, in ms. @defaultValue 1000 */
  intervalMs?: number;
  /** Maximum wait for a PING reply, in ms. @defaultValue 1000 */
  timeoutMs?: number;
}

/**
 * Watches one Redis with PINGs on a connection of its own, for readiness and for
 * the log. A closed connection or a PING that fails or gets no reply within
 * `timeoutMs` marks Redis unavailable, and the next PING reply marks it available.
 * Each change logs one line, with the URL without its user name and password.
 */
export class RedisMonitor implements ReadinessCheck {
  readonly name = 'redis';
  readonly #redis: Redis;
  readonly #url: string;
  readonly #logger: Logger | undefined;
  readonly #timer: NodeJS.Timeout;
  #last: ReadinessResult = { status: 'ok' };
  #unavailableSince: number | undefined;
  #lastError: Error | undefined;
  #closing = false;

  constructor(options: RedisMonitorOptions) {
    const timeoutMs = options.timeoutMs ?? 1000;
    this.#url = withoutCredentials(options.redisUrl);
    this.#logger = options.logger;
    // commandTimeout ends a PING that waits for a connection or for a reply from a Redis
    // that keeps the connection open but never replies. With maxRetriesPerRequest 0 a
    // reconnect attempt fails the PINGs that wait for it.
    this.#redis = new Redis(options.redisUrl, {
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    this.#redis.on('error', (error: Error) => {
      this.#lastError = error;
    });
    this.#redis.on('close', () => {
      if (this.#closing) return;
      const cause = this.#lastError === undefined ? '' : ` (${this.#lastError.message})`;
      this.#markUnavailable(`connection closed${cause}`);
    });
    this.#redis.on('ready', () => void this.check());
    this.#timer = setInterval(() => void this.check(), options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  /** Sends a PING now and returns whether Redis replied in time. */
  async check(): Promise<ReadinessResult> {
    const started = performance.now();
    try {
      await this.#redis.ping();
      this.#markAvailable();
      this.#last = { status: 'ok', latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      this.#markUnavailable(`PING failed: ${unavailableReason(error)}`);
    }
    return this.#last;
  }

  /** Returns the result of the latest PING or connection event, without sending anything. */
  lastResult(): ReadinessResult {
    return this.#last;
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#timer);
    this.#redis.disconnect();
  }

  #markUnavailable(reason: string): void {
    this.#last = { status: 'failed', message: `Redis at ${this.#url} is unavailable: ${reason}` };
    if (this.#unavailableSince !== undefined || this.#closing) return;
    this.#unavailableSince = Date.now();
    this.#logger?.warn(
      { redisUrl: this.#url, reason },
      'Redis connection lost; requests that need Redis get 503 until it replies again',
    );
  }

  #markAvailable(): void {
    if (this.#unavailableSince === undefined) return;
    const unavailableMs = Date.now() - this.#unavailableSince;
    this.#unavailableSince = undefined;
    this.#lastError = undefined;
    this.#logger?.info({ redisUrl: this.#url, unavailableMs }, 'Redis connection recovered');
  }
}
