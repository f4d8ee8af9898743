/**
 * Redis memory that the cost ledger and the BullMQ queue keep per task, right after `tasks`
 * tasks and again once their retention has passed. Sums MEMORY USAGE (SAMPLES 0) over the
 * keys of a unique prefix on 127.0.0.1:6379, by kind of key, and deletes them at the end.
 *
 * Run: npx tsx bench/retention-memory.ts [tasks=10000] [retentionMs=2000]
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { RedisCostLedger } from '../src/platform/cost/index.js';
import { bucketWidthMs } from '../src/platform/cost/retention.js';
import { createBullmqQueue } from '../src/platform/queue/index.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const ENQUEUE_BATCH = 500;
/** Jobs finished after the retention. BullMQ deletes at most 1,000 old jobs per finish. */
const TRIGGER_JOBS = 20;
const TIMEOUT_MS = 120_000;

type KindOf = (key: string) => string;

/** Sums the memory of the keys that start with `prefix`, by the kind `kindOf` names. */
async function memoryByKind(
  redis: Redis,
  prefix: string,
  kindOf: KindOf,
): Promise<Record<string, number>> {
  const bytes: Record<string, number> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    for (const key of keys) {
      const used = Number((await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0);
      const kind = kindOf(key.slice(prefix.length));
      bytes[kind] = (bytes[kind] ?? 0) + used;
    }
    cursor = next;
  } while (cursor !== '0');
  return bytes;
}

function print(label: string, bytes: Record<string, number>, tasks: number): void {
  const total = Object.values(bytes).reduce((sum, value) => sum + value, 0);
  const parts = Object.entries(bytes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, value]) => `${kind}=${(value / 1024).toFixed(1)}KiB`);
  const perTask = (total / tasks).toFixed(1);
  console.log(`${label}: ${(total / 1024).toFixed(1)} KiB, ${perTask} B/task (${parts.join(' ')})`);
}

async function measureLedger(redis: Redis, tasks: number, retentionMs: number): Promise<void> {
  const keyPrefix = `bench-retention-${randomBytes(6).toString('hex')}:cost:`;
  const ledger = new RedisCostLedger({ redis, keyPrefix, retentionMs });
  const kindOf: KindOf = (key) => (key.startsWith('tasks') ? 'records' : 'totals');
  try {
    for (let index = 0; index < tasks; index += 1) {
      await ledger.record({
        taskId: randomUUID(),
        tenantId: `tenant-${index % 3}`,
        route: index % 2 === 0 ? 'chat' : 'summarize',
        provider: 'provider-a',
        model: 'gpt-4o',
        usage: { inputTokens: 1020, outputTokens: 129 },
        tokenCostUsd: 0.0031 + index * 1e-7,
        executorCostUsd: 0.0004,
        ...(index % 2 === 0 ? { workerBusyMs: 1000 + index } : {}),
      });
    }
    print(`ledger, ${tasks} tasks recorded`, await memoryByKind(redis, keyPrefix, kindOf), tasks);
    await sleep(retentionMs + 2 * bucketWidthMs(retentionMs) + 100);
    print('ledger, after the retention', await memoryByKind(redis, keyPrefix, kindOf), tasks);
    const totals = await ledger.totals();
    console.log(
      `ledger totals: tasks=${totals.tasks}, summary tasks=${(await ledger.summary()).tasks}`,
    );
  } finally {
    await ledger.clear();
  }
}

async function measureQueue(redis: Redis, tasks: number, retentionMs: number): Promise<void> {
  const suffix = randomBytes(6).toString('hex');
  const prefix = `bench-retention-${suffix}`;
  const queue = createBullmqQueue<{ index: number }>({
    name: 'tasks',
    prefix,
    connection: REDIS_URL,
    retentionMs,
  });
  const kindOf: KindOf = (key) => {
    if (key.startsWith(':tasks:scalegate:')) return 'scalegate';
    return key.startsWith(':tasks:id-') ? 'jobs' : 'bullmq-other';
  };
  try {
    queue.consume(async () => undefined, { concurrency: 50 });
    await enqueueAll(queue, tasks, 'job');
    await untilCompleted(queue, tasks);
    print(`queue, ${tasks} jobs completed`, await memoryByKind(redis, prefix, kindOf), tasks);
    await sleep(retentionMs + 1100);
    await enqueueAll(queue, TRIGGER_JOBS, 'trigger');
    await untilCompleted(queue, tasks + TRIGGER_JOBS);
    const label = `queue, after the retention and ${TRIGGER_JOBS} more jobs`;
    print(label, await memoryByKind(redis, prefix, kindOf), tasks);
    console.log(`queue counts: ${JSON.stringify(await queue.counts())}`);
  } finally {
    await queue.obliterate();
  }
}

async function enqueueAll(
  queue: ReturnType<typeof createBullmqQueue<{ index: number }>>,
  count: number,
  name: string,
): Promise<void> {
  for (let first = 0; first < count; first += ENQUEUE_BATCH) {
    const size = Math.min(ENQUEUE_BATCH, count - first);
    await Promise.all(
      Array.from({ length: size }, (_, offset) =>
        queue.enqueue(`${name}-${randomUUID()}`, { index: first + offset }),
      ),
    );
  }
}

async function untilCompleted(
  queue: ReturnType<typeof createBullmqQueue<{ index: number }>>,
  count: number,
): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while ((await queue.counts()).completed < count) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} completed jobs`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function positiveInteger(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

const tasks = positiveInteger(process.argv[2], 10_000, 'tasks');
const retentionMs = positiveInteger(process.argv[3], 2_000, 'retentionMs');
const redis = new Redis(REDIS_URL);
try {
  await measureLedger(redis, tasks, retentionMs);
  await measureQueue(redis, tasks, Math.max(1000, retentionMs));
} finally {
  redis.disconnect();
}
