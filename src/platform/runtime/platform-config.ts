import type { Logger } from 'pino';

import type { BackpressureOptions } from '../admission/backpressure.js';
import type { Clock } from '../clock.js';
import type { ServerlessOptions } from '../executors/serverless-options.js';
import type { Topology } from './topology.js';

/** Settings of {@link startPlatform}; every path is relative to the working directory. */
export interface PlatformConfig {
  /** @defaultValue workers=24 serverless_burst=enabled */
  topology?: Topology | string;
  /** Gateway port on 127.0.0.1. @defaultValue 0, a free port */
  port?: number;
  /** Redis for admission, queue, store and cost ledger; memory drivers when absent. @defaultValue process.env.REDIS_URL */
  redisUrl?: string;
  /** Prefix of every Redis key of this run. @defaultValue a random `scalegate-<hex>` */
  keyPrefix?: string;
  /** @defaultValue 'fixtures/providers' */
  providersDir?: string;
  /** @defaultValue 'policies/default.yaml' */
  policyPath?: string;
  /** @defaultValue 'fixtures/tenants.yaml' */
  tenantsPath?: string;
  /** @defaultValue 'fixtures/prices.yaml' */
  pricesPath?: string;
  /** Serverless emulator settings; prices come from the price table. */
  serverless?: Omit<ServerlessOptions, 'clock' | 'prices'>;
  /** Queue retry settings. @defaultValue maxAttempts 3, backoffBaseMs 200 */
  queue?: {
    maxAttempts?: number;
    backoffBaseMs?: number;
    backoffMaxMs?: number;
    /**
     * Time after which a running async task whose worker stopped renewing its lock, as a
     * killed worker process does, returns to the queue. @defaultValue 30_000
     */
    stallIntervalMs?: number;
  };
  /**
   * How long a finished task stays readable, with the idempotency key bound to it, how long
   * its queue job stays, and how long its cost record stays for the cost summary. At least
   * 1000.
   * @defaultValue 86_400_000 (24 hours)
   */
  taskRetentionMs?: number;
  /** @defaultValue maxQueueDepth 10_000, maxOldestAgeMs 60_000 */
  backpressure?: BackpressureOptions;
  /** Worker processes forked for async tasks when Redis is used; 0 keeps consumers in this process. @defaultValue 2 */
  workerProcesses?: number;
  /**
   * Process of the mock providers and the fault proxy: this one, or a forked child
   * process, so that they use another core than the gateway and the load engine.
   * @defaultValue 'in-process'
   */
  providerProcess?: 'in-process' | 'child';
  /**
   * Time scale of a child provider process, matching `clock` when that is a
   * `scaledClock`; the clock object itself cannot cross the process boundary.
   * @defaultValue 1
   */
  timeScale?: number;
  /**
   * A running Toxiproxy on a loopback address to create the provider proxies in, in place
   * of the embedded fault proxy.
   * @defaultValue process.env.TOXIPROXY_URL
   */
  toxiproxyUrl?: string;
  /**
   * Whether provider calls pass through the fault proxy. False sends them straight to
   * the mock providers: no faults can be injected, and no CPU goes to relaying bytes,
   * which suits capacity benchmarks.
   * @defaultValue true
   */
  faultProxy?: boolean;
  /** @defaultValue 1 */
  seed?: number;
  /** Logger of the process edge; the gateway logs through it. @defaultValue no logging */
  logger?: Logger;
  /** @defaultValue systemClock */
  clock?: Clock;
}
