/**
 * Admission decision throughput: the memory backend against the Redis backend
 * on 127.0.0.1:6379, each as admit then settle, run side by side in rounds.
 * Bounded: 5 rounds of 2,000 tasks per backend, at 64 in flight.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  type AdmissionBackend,
  MemoryAdmissionBackend,
  RedisAdmissionBackend,
} from '../src/platform/admission/index.js';
import { median } from './stats.js';

const ROUNDS = 5;
const TASKS = 2000;
const CONCURRENCY = 64;
const tenant = {
  id: 'tenant-bench',
  requestsPerMinute: 1e9,
  tokensPerMinute: 1e12,
  maxInFlight: 1e6,
  budgetUsd: 1e9,
};

async function admitAndSettle(backend: AdmissionBackend): Promise<void> {
  const result = await backend.admit({ tenant, tokens: 1000, maxCostUsd: 0.02 });
  if (!result.admitted) {
    throw new Error(`bench task rejected: ${result.reason}`);
  }
  await backend.settle(result.ticket, { run: 1, spentUsd: 0.01 });
}

/** Returns tasks per second for one round. */
async function runRound(backend: AdmissionBackend): Promise<number> {
  let next = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (next < TASKS) {
      next += 1;
      await admitAndSettle(backend);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return TASKS / ((performance.now() - started) / 1000);
}

const redis = new Redis(6379, '127.0.0.1');
const memory = new MemoryAdmissionBackend();
const shared = new RedisAdmissionBackend({ redis, keyPrefix: `bench:admission:${randomUUID()}:` });
const memoryRates: number[] = [];
const redisRates: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round += 1) {
    memoryRates.push(await runRound(memory));
    redisRates.push(await runRound(shared));
  }
  const memoryMedian = median(memoryRates);
  const redisMedian = median(redisRates);
  console.log(`memory  admit+settle: ${memoryMedian.toFixed(0)} tasks/s (median of ${ROUNDS})`);
  console.log(`redis   admit+settle: ${redisMedian.toFixed(0)} tasks/s (median of ${ROUNDS})`);
  console.log(`ratio memory/redis: ${(memoryMedian / redisMedian).toFixed(1)}x`);
} finally {
  await shared.clear();
  await redis.quit();
}
