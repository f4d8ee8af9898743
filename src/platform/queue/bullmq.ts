/**
 * BullMQ TaskQueue driver on Redis. Jobs, retries and stall detection are
 * BullMQ's; this driver adds the accepted-id set that reports duplicates and
 * the dead-letter index that separates exhausted jobs from non-retryable ones.
 */
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { BACKOFF_TYPE, BullmqConsumer, type ConsumerContext } from './bullmq-consumer.js';
import { fromBullmqJobId, toBullmqJobId } from './bullmq-job-id.js';
import { QueueClosedError, toError } from './errors.js';
import { type QueueEventMap, QueueEvents } from './events.js';
import {
  type QueueOptions,
  type ResolvedQueueOptions,
  checkJobId,
  checkPriority,
  integerAtLeast,
  resolveQueueOptions,
} from './options.js';
import type {
  ConsumeOptions,
  Consumer,
  DeadLetterEntry,
  EnqueueOptions,
  EnqueueResult,
  JobHandler,
  ListOptions,
  QueueCounts,
  QueueGauges,
  TaskQueue,
} from './queue.js';
import { redisOptionsFromUrl } from './redis-connection.js';

export interface BullmqQueueOptions extends QueueOptions {
  /** Redis URL, such as `redis://127.0.0.1:6379`. */
  connection: string;
  /**
   * Key prefix; tests pass a unique one.
   * @defaultValue 'scalegate'
   */
  prefix?: string;
}

/** A TaskQueue on BullMQ, plus the key cleanup that tests and teardown need. */
export interface BullmqTaskQueue<T> extends TaskQueue<T> {
  /** Deletes every key of this queue, jobs included, then closes it. */
  obliterate(): Promise<void>;
}

/** Creates a BullMQ-backed queue; options are validated before any connection opens. */
export function createBullmqQueue<T>(options: BullmqQueueOptions): BullmqTaskQueue<T> {
  const resolved = resolveQueueOptions(options);
  const prefix = options.prefix ?? 'scalegate';
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(prefix)) {
    throw new TypeError(
      `prefix must be 1-100 letters, digits, '_', '.' or '-', got ${JSON.stringify(prefix)}`,
    );
  }
  return new BullmqQueue<T>(resolved, prefix, redisOptionsFromUrl(options.connection));
}

/**
 * KEYS: dead-letter set, dead-letter count. ARGV: now, job id, cutoff. Adds the job and
 * counts it once, and drops the entries dead-lettered before the cutoff, whose jobs
 * BullMQ deletes after the retention.
 */
const RECORD_DEAD_LETTER_SCRIPT = `
if redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2]) == 1 then redis.call('INCR', KEYS[2]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
return 1`;

interface DeadLetterCommands {
  scalegateRecordDeadLetter(...args: string[]): Promise<unknown>;
}

/** Oldest prioritized jobs read when computing oldestAgeMs. */
const PRIORITIZED_SAMPLE = 100;

class BullmqQueue<T> implements BullmqTaskQueue<T> {
  readonly name: string;
  readonly #options: ResolvedQueueOptions;
  readonly #queue: Queue<T, void, string, T, void, string>;
  readonly #redis: Redis;
  readonly #events = new QueueEvents();
  readonly #context: ConsumerContext;
  readonly #acceptedKey: string;
  readonly #deadLetterKey: string;
  readonly #deadLetterCountKey: string;
  readonly #consumers = new Set<Consumer>();
  #closed = false;

  constructor(options: ResolvedQueueOptions, prefix: string, redis: ConsumerContext['redis']) {
    this.name = options.name;
    this.#options = options;
    this.#redis = new Redis(redis);
    // The producer shares this client, so its connection errors reach our listener.
    this.#queue = new Queue<T, void, string, T, void, string>(options.name, {
      connection: this.#redis,
      prefix,
    });
    this.#acceptedKey = `${prefix}:${options.name}:scalegate:accepted`;
    this.#deadLetterKey = `${prefix}:${options.name}:scalegate:dead-lettered`;
    this.#deadLetterCountKey = `${prefix}:${options.name}:scalegate:dead-lettered-count`;
    this.#redis.defineCommand('scalegateRecordDeadLetter', {
      numberOfKeys: 2,
      lua: RECORD_DEAD_LETTER_SCRIPT,
    });
    this.#forwardConnectionErrors();
    this.#context = {
      options,
      prefix,
      redis,
      events: this.#events,
      ready: this.#applyGlobalConcurrency(),
      recordDeadLetter: (jobId) => this.#recordDeadLetter(jobId),
    };
    this.#context.ready.catch(() => undefined);
  }

  /**
   * Records the id in the accepted set and adds the job, concurrently, so the
   * add does not wait for the SADD reply. The add also runs for duplicates,
   * because BullMQ ignores an existing job id and a producer that crashed after
   * only one of the two writes completes the other on the retry. `duplicate` is
   * true when the id was already in the accepted set.
   */
  async enqueue(id: string, data: T, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    checkJobId(id);
    const priority = checkPriority(options.priority);
    this.#assertOpen();
    await this.#context.ready;
    const [added] = await Promise.all([
      this.#redis.sadd(this.#acceptedKey, id),
      this.#queue.add('task', data, {
        jobId: toBullmqJobId(id),
        attempts: this.#options.maxAttempts,
        backoff: { type: BACKOFF_TYPE },
        // BullMQ deletes a finished job older than this at a later finish to the same set.
        removeOnComplete: { age: this.#retentionS },
        removeOnFail: { age: this.#retentionS },
        ...(priority === undefined ? {} : { priority }),
      }),
    ]);
    return { id, duplicate: added === 0 };
  }

  /**
   * Reads the job's hash, which BullMQ's add script writes in the same step that puts the
   * job in the queue.
   */
  async hasJob(id: string): Promise<boolean> {
    checkJobId(id);
    this.#assertOpen();
    return (await this.#queue.getJob(toBullmqJobId(id))) !== undefined;
  }

  consume(handler: JobHandler<T>, options: ConsumeOptions): Consumer {
    const concurrency = integerAtLeast('concurrency', options.concurrency, 1);
    this.#assertOpen();
    const consumer = new BullmqConsumer(handler, concurrency, this.#context);
    this.#consumers.add(consumer);
    return consumer;
  }

  /**
   * Counts finished jobs from BullMQ's completed and failed counters, which its consumers
   * keep in the same script that finishes a job, so jobs deleted after their retention
   * still count.
   */
  async counts(): Promise<QueueCounts> {
    const [accepted, finished, deadLettered] = await Promise.all([
      this.#redis.scard(this.#acceptedKey),
      this.#finishedCounts(),
      this.#deadLetteredCount(),
    ]);
    return {
      accepted,
      completed: finished.completed,
      failed: finished.failed - deadLettered,
      deadLettered,
    };
  }

  async gauges(): Promise<QueueGauges> {
    const [jobCounts, finished, deadLettered, oldestAgeMs] = await Promise.all([
      this.#queue.getJobCounts('wait', 'prioritized', 'delayed', 'active'),
      this.#finishedCounts(),
      this.#deadLetteredCount(),
      this.#oldestWaitingAgeMs(),
    ]);
    const count = (state: string): number => jobCounts[state] ?? 0;
    return {
      depth: count('wait') + count('prioritized') + count('delayed'),
      active: count('active'),
      oldestAgeMs,
      completed: finished.completed,
      failed: finished.failed - deadLettered,
      deadLettered,
    };
  }

  async listDeadLettered(options: ListOptions = {}): Promise<DeadLetterEntry<T>[]> {
    const limit = integerAtLeast('limit', options.limit ?? 100, 1);
    const entries = await this.#redis.zrange(this.#deadLetterKey, 0, limit - 1, 'WITHSCORES');
    const listed: DeadLetterEntry<T>[] = [];
    for (let index = 0; index + 1 < entries.length; index += 2) {
      const job = await this.#queue.getJob(entries[index] ?? '');
      if (job !== undefined) {
        listed.push(toDeadLetterEntry(job, Number(entries[index + 1])));
      }
    }
    return listed;
  }

  on<K extends keyof QueueEventMap>(event: K, listener: (payload: QueueEventMap[K]) => void): this {
    (this.#events.on as (e: K, l: typeof listener) => void)(event, listener);
    return this;
  }

  off<K extends keyof QueueEventMap>(
    event: K,
    listener: (payload: QueueEventMap[K]) => void,
  ): this {
    (this.#events.off as (e: K, l: typeof listener) => void)(event, listener);
    return this;
  }

  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    await Promise.all([...this.#consumers].map((consumer) => consumer.close()));
    await this.#queue.close();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  async obliterate(): Promise<void> {
    this.#assertOpen();
    await Promise.all([...this.#consumers].map((consumer) => consumer.close()));
    await this.#queue.obliterate({ force: true });
    await this.#redis.del(this.#acceptedKey, this.#deadLetterKey, this.#deadLetterCountKey);
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new QueueClosedError(this.name);
    }
  }

  #forwardConnectionErrors(): void {
    const forward = (error: unknown): void => {
      this.#events.emit('connectionError', { error: toError(error) });
    };
    this.#queue.on('error', forward);
    this.#redis.on('error', forward);
  }

  /**
   * Stores the handle's cap in Redis. A handle without one leaves the stored cap alone,
   * so a producer opened after the capped consumers cannot lift their cap.
   */
  async #applyGlobalConcurrency(): Promise<void> {
    const cap = this.#options.globalConcurrency;
    if (cap !== undefined) await this.#queue.setGlobalConcurrency(cap);
  }

  async #recordDeadLetter(jobId: string): Promise<void> {
    const now = this.#options.clock.now();
    await (this.#redis as Redis & DeadLetterCommands).scalegateRecordDeadLetter(
      this.#deadLetterKey,
      this.#deadLetterCountKey,
      String(now),
      jobId,
      String(now - this.#options.retentionMs),
    );
  }

  async #deadLetteredCount(): Promise<number> {
    return Number((await this.#redis.get(this.#deadLetterCountKey)) ?? 0);
  }

  async #finishedCounts(): Promise<{ completed: number; failed: number }> {
    const [completed, failed] = await Promise.all([
      this.#queue.getMetrics('completed', 0, 0),
      this.#queue.getMetrics('failed', 0, 0),
    ]);
    return { completed: completed.meta.count, failed: failed.meta.count };
  }

  get #retentionS(): number {
    return Math.ceil(this.#options.retentionMs / 1000);
  }

  /**
   * Returns the maximum wait, since each last entered the line, of the job at the head of the
   * wait list and of the first prioritized jobs.
   */
  async #oldestWaitingAgeMs(): Promise<number> {
    const [plain, prioritized] = await Promise.all([
      this.#queue.getJobs(['wait'], 0, 0, true),
      this.#queue.getJobs(['prioritized'], 0, PRIORITIZED_SAMPLE - 1, true),
    ]);
    // NOTE: only the first PRIORITIZED_SAMPLE prioritized jobs are read, so an
    // older job of a lower priority behind them is not seen. A retry whose backoff
    // ended stays in the delayed set until a consumer fetches again, so its age is
    // missing while every consumer is busy. The memory driver counts it.
    const readyTimes = [...plain, ...prioritized].map(readyAtMs);
    if (readyTimes.length === 0) {
      return 0;
    }
    return Math.max(0, this.#options.clock.now() - Math.min(...readyTimes));
  }
}

/**
 * Returns when a waiting job last entered the line. A job that was delivered before came
 * back after its last delivery started (`processedOn`) plus its delay. For a deferral, which
 * a handler makes when its delivery starts, that is off by milliseconds.
 * NOTE: a retry or a stalled delivery came back later than that, after its run, so its wait
 * counts from earlier than it does in the memory driver.
 */
function readyAtMs(job: Job): number {
  const enqueuedAt = Number(job.timestamp);
  if (job.processedOn === undefined) return enqueuedAt;
  return Math.max(enqueuedAt, Number(job.processedOn) + Number(job.delay ?? 0));
}

function toDeadLetterEntry<T>(job: Job<T>, deadLetteredAt: number): DeadLetterEntry<T> {
  return {
    id: fromBullmqJobId(job.id),
    data: job.data,
    attempts: job.attemptsMade,
    error: job.failedReason ?? '',
    deadLetteredAt,
  };
}
