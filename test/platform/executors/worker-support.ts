/** Shared setup for the worker pool tests: unique queues, records and cleanup. */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import type { Redis } from 'ioredis';

import type { BullmqQueueSpec } from '../../../src/platform/executors/worker-pool-options.js';
import {
  type RecordedEvent,
  abortedKey,
  closedKey,
  deliveriesKey,
  eventsKey,
} from '../../fixtures/worker-recording-handler.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';
export const RECORDING_HANDLER = fileURLToPath(
  new URL('../../fixtures/worker-recording-handler.ts', import.meta.url),
);

/** Returns a unique queue spec and record prefix for one test. */
export function uniqueNames(redisUrl = REDIS_URL): { queue: BullmqQueueSpec; keyPrefix: string } {
  const suffix = randomBytes(6).toString('hex');
  return {
    queue: {
      driver: 'bullmq',
      redisUrl,
      name: `pool-${suffix}`,
      prefix: `sgtest-${suffix}`,
      stallIntervalMs: 1000,
    },
    keyPrefix: `sgtest-records-${suffix}`,
  };
}

export async function readEvents(redis: Redis, keyPrefix: string): Promise<RecordedEvent[]> {
  const raw = await redis.lrange(eventsKey(keyPrefix), 0, -1);
  return raw.map((entry) => JSON.parse(entry) as RecordedEvent);
}

export async function readDeliveries(
  redis: Redis,
  keyPrefix: string,
): Promise<Record<string, number>> {
  const raw = await redis.hgetall(deliveriesKey(keyPrefix));
  return Object.fromEntries(Object.entries(raw).map(([id, count]) => [id, Number(count)]));
}

export async function deleteRecords(redis: Redis, keyPrefix: string): Promise<void> {
  await redis.del(
    eventsKey(keyPrefix),
    deliveriesKey(keyPrefix),
    closedKey(keyPrefix),
    abortedKey(keyPrefix),
  );
}

/** Polls `condition` every 50 ms until it is true or `timeoutMs` passes. */
export async function waitFor(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
