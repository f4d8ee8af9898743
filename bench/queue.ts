/**
 * Queue throughput: raw BullMQ against the TaskQueue BullMQ driver, no-op
 * handlers, same Redis, same run. Each round enqueues `jobs` jobs, then times
 * consumption at `concurrency` until all have completed.
 *
 * Run: npx tsx bench/queue.ts [jobs=5000] [concurrency=50] [rounds=5]
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

import { Queue, Worker } from 'bullmq';

import { createBullmqQueue } from '../src/platform/queue/index.js';
import { redisOptionsFromUrl } from '../src/platform/queue/redis-connection.js';
import { positiveInteger } from './args.js';
import { median } from './stats.js';

export interface ThroughputOptions {
  /** Redis URL on 127.0.0.1. */
  redisUrl: string;
  jobs: number;
  concurrency: number;
  /**
   * Abandons the measurement after this long.
   * @defaultValue 120000
   */
  timeoutMs?: number;
  /**
   * Runs once the jobs are consumed, before the queue's keys are deleted, so that a caller
   * that counts Redis commands can leave out the cleanup.
   */
  beforeCleanup?: () => Promise<void>;
}

export interface ThroughputResult {
  enqueuePerSecond: number;
  /** Jobs completed per second, from consumer start to the last completion. */
  jobsPerSecond: number;
}

const ENQUEUE_BATCH = 500;

/** Measures raw BullMQ: addBulk, then one Worker with a no-op processor. */
export async function measureRawBullmqThroughput(
  options: ThroughputOptions,
): Promise<ThroughputResult> {
  const connection = redisOptionsFromUrl(options.redisUrl);
  const { name, prefix } = uniqueNames('raw');
  const queue = new Queue(name, { connection, prefix });
  try {
    const enqueueStart = performance.now();
    for (let first = 0; first < options.jobs; first += ENQUEUE_BATCH) {
      const count = Math.min(ENQUEUE_BATCH, options.jobs - first);
      await queue.addBulk(
        Array.from({ length: count }, (_, index) => ({
          name: 'noop',
          data: { index: first + index },
        })),
      );
    }
    const enqueueMs = performance.now() - enqueueStart;
    const consumeMs = await timeRawConsumption(name, prefix, options);
    await options.beforeCleanup?.();
    return rates(options.jobs, enqueueMs, consumeMs);
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/**
 * Measures raw BullMQ with producer and consumer running together, as the platform's
 * async path runs. One Worker with a no-op processor starts first. Then each job is
 * added with its own `add`, `inFlight` adds at a time. The rate counts from the first
 * add to the last completion, and `enqueuePerSecond` and `jobsPerSecond` both give it.
 */
export async function measureRawBullmqFlow(
  options: ThroughputOptions & { inFlight: number },
): Promise<ThroughputResult> {
  const connection = redisOptionsFromUrl(options.redisUrl);
  const { name, prefix } = uniqueNames('flow');
  const queue = new Queue(name, { connection, prefix });
  const worker = new Worker(name, async () => undefined, {
    connection,
    prefix,
    concurrency: options.concurrency,
  });
  try {
    await worker.waitUntilReady();
    const done = untilWorkerDone(worker, options);
    // A failed add ends the measurement first; the wait's later rejection is then not awaited.
    done.catch(() => undefined);
    const start = performance.now();
    for (let first = 0; first < options.jobs; first += options.inFlight) {
      const count = Math.min(options.inFlight, options.jobs - first);
      await Promise.all(
        Array.from({ length: count }, (_, index) => queue.add('noop', { index: first + index })),
      );
    }
    await done;
    const elapsedMs = performance.now() - start;
    return rates(options.jobs, elapsedMs, elapsedMs);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

async function timeRawConsumption(
  name: string,
  prefix: string,
  options: ThroughputOptions,
): Promise<number> {
  const connection = redisOptionsFromUrl(options.redisUrl);
  const start = performance.now();
  const worker = new Worker(name, async () => undefined, {
    connection,
    prefix,
    concurrency: options.concurrency,
  });
  try {
    await untilWorkerDone(worker, options);
    return performance.now() - start;
  } finally {
    await worker.close();
  }
}

/** Measures the same workload through createBullmqQueue. */
export async function measureTaskQueueThroughput(
  options: ThroughputOptions,
): Promise<ThroughputResult> {
  const { name, prefix } = uniqueNames('taskqueue');
  const queue = createBullmqQueue<{ index: number }>({
    name,
    prefix,
    connection: options.redisUrl,
  });
  try {
    const enqueueStart = performance.now();
    for (let first = 0; first < options.jobs; first += ENQUEUE_BATCH) {
      const count = Math.min(ENQUEUE_BATCH, options.jobs - first);
      await Promise.all(
        Array.from({ length: count }, (_, index) =>
          queue.enqueue(`job-${first + index}`, { index: first + index }),
        ),
      );
    }
    const enqueueMs = performance.now() - enqueueStart;
    let completed = 0;
    const start = performance.now();
    queue.consume(async () => undefined, { concurrency: options.concurrency });
    await untilDone(
      options,
      () => completed,
      (onProgress) =>
        queue.on('completed', () => {
          completed += 1;
          onProgress();
        }),
    );
    return rates(options.jobs, enqueueMs, performance.now() - start);
  } finally {
    await queue.obliterate();
  }
}

/** Resolves when `worker` has completed the job count; rejects after timeoutMs. */
function untilWorkerDone(worker: Worker, options: ThroughputOptions): Promise<void> {
  let completed = 0;
  return untilDone(
    options,
    () => completed,
    (onProgress) =>
      worker.on('completed', () => {
        completed += 1;
        onProgress();
      }),
  );
}

/** Resolves when `completed()` reaches the job count; rejects after timeoutMs. */
function untilDone(
  options: ThroughputOptions,
  completed: () => number,
  subscribe: (onProgress: () => void) => void,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`timed out after ${timeoutMs} ms at ${completed()} of ${options.jobs} jobs`),
        ),
      timeoutMs,
    );
    subscribe(() => {
      if (completed() >= options.jobs) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

function rates(jobs: number, enqueueMs: number, consumeMs: number): ThroughputResult {
  return { enqueuePerSecond: (jobs * 1000) / enqueueMs, jobsPerSecond: (jobs * 1000) / consumeMs };
}

function uniqueNames(kind: string): { name: string; prefix: string } {
  const suffix = randomBytes(6).toString('hex');
  return { name: `bench-${kind}-${suffix}`, prefix: `sgbench-${suffix}` };
}

async function main(): Promise<void> {
  const jobs = positiveInteger('jobs', process.argv[2], 5000);
  const concurrency = positiveInteger('concurrency', process.argv[3], 50);
  const rounds = positiveInteger('rounds', process.argv[4], 5);
  const options = { redisUrl: 'redis://127.0.0.1:6379', jobs, concurrency };
  // A discarded warm-up round, then rounds that alternate which side runs first.
  await measureRawBullmqThroughput({ ...options, jobs: 1000 });
  await measureTaskQueueThroughput({ ...options, jobs: 1000 });
  const raw: ThroughputResult[] = [];
  const driver: ThroughputResult[] = [];
  for (let round = 0; round < rounds; round += 1) {
    if (round % 2 === 0) {
      raw.push(await measureRawBullmqThroughput(options));
      driver.push(await measureTaskQueueThroughput(options));
    } else {
      driver.push(await measureTaskQueueThroughput(options));
      raw.push(await measureRawBullmqThroughput(options));
    }
  }
  const rawConsume = median(raw.map((result) => result.jobsPerSecond));
  const driverConsume = median(driver.map((result) => result.jobsPerSecond));
  const rawEnqueue = median(raw.map((result) => result.enqueuePerSecond));
  const driverEnqueue = median(driver.map((result) => result.enqueuePerSecond));
  console.log(`jobs=${jobs} concurrency=${concurrency} rounds=${rounds} (medians)`);
  console.log(
    `raw bullmq   consume ${rawConsume.toFixed(0)} jobs/s  enqueue ${rawEnqueue.toFixed(0)} jobs/s`,
  );
  console.log(
    `TaskQueue    consume ${driverConsume.toFixed(0)} jobs/s  enqueue ${driverEnqueue.toFixed(0)} jobs/s`,
  );
  console.log(
    `ratio TaskQueue/raw  consume ${(driverConsume / rawConsume).toFixed(2)}  enqueue ${(driverEnqueue / rawEnqueue).toFixed(2)}`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
