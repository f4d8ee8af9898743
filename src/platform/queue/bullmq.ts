/**
 * BullMQ TaskQueue driver on Redis. Jobs, retries and stall detection are BullMQ's.
 * This driver adds a short-lived claim per id that reports concurrent duplicates, reads
 * the accepted count from BullMQ's job states, and keeps the dead-letter index that
 * separates exhausted jobs from non-retryable ones.
 */
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { isScaledClock } from '../clock.js';
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

/**
 * KEYS: the BullMQ job hash of the id, the id's claim key. ARGV: the claim's time to live
 * in ms. Returns 1 and sets the claim when neither exists, which makes the enqueue the
 * id's first, or 0 for a duplicate.
 */
const CLAIM_JOB_ID_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0`;

/**
 * Maximum time a claim lives, in ms. Within it a second enqueue of the id is a duplicate
 * although the first one's job may not be stored yet. A claim whose add never landed,
 * after a producer was killed, expires then. A shorter retention shortens it, so that no
 * claim outlives the job, which BullMQ deletes at least the retention after it finished.
 */
const MAX_CLAIM_TTL_MS = 60_000;

/**
 * KEYS: BullMQ's wait, paused, prioritized, delayed, active and waiting-children keys,
 * its completed and failed metrics hashes, then the dead-letter count. Returns the jobs
 * in every unfinished state plus every job BullMQ counted as finished, then the completed,
 * failed and dead-lettered counts, all read in one step.
 */
const COUNTS_SCRIPT = `
local unfinished = redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2])
  + redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4])
  + redis.call('LLEN', KEYS[5]) + redis.call('ZCARD', KEYS[6])
local completed = tonumber(redis.call('HGET', KEYS[7], 'count') or '0')
local failed = tonumber(redis.call('HGET', KEYS[8], 'count') or '0')
local deadLettered = tonumber(redis.call('GET', KEYS[9]) or '0')
return {unfinished + completed + failed, completed, failed, deadLettered}`;

/**
 * BullMQ's keys of the states a job passes before it finishes, in COUNTS_SCRIPT's order.
 * NOTE: the list is BullMQ 6.7's. A version that adds a state would leave its jobs out of
 * `accepted`, which the conformance suite's accounting tests would show.
 */
const UNFINISHED_STATES = [
  'wait',
  'paused',
  'prioritized',
  'delayed',
  'active',
  'waiting-children',
];

interface DriverCommands {
  scalegateRecordDeadLetter(...args: string[]): Promise<unknown>;
  scalegateClaimJobId(jobKey: string, claimKey: string, ttlMs: string): Promise<unknown>;
  scalegateCounts(...keys: string[]): Promise<unknown>;
}

/** Oldest prioritized jobs read when computing oldestAgeMs. */
const PRIORITIZED_SAMPLE = 100;

class BullmqQueue<T> implements BullmqTaskQueue<T> {
  readonly name: string;
  readonly #options: ResolvedQueueOptions;
  readonly #queue: Queue<T, void, string, T, void, string>;
  readonly #redis: Redis & DriverCommands;
  readonly #events = new QueueEvents();
  readonly #context: ConsumerContext;
  readonly #claimKeyPrefix: string;
  readonly #deadLetterKey: string;
  readonly #deadLetterCountKey: string;
  readonly #consumers = new Set<Consumer>();
  #closed = false;

  constructor(options: ResolvedQueueOptions, prefix: string, redis: ConsumerContext['redis']) {
    this.name = options.name;
    this.#options = options;
    this.#redis = withDriverCommands(new Redis(redis));
    // The producer shares this client, so its connection errors reach our listener, and
    // Redis runs the commands of both in the order they were sent.
    this.#queue = new Queue<T, void, string, T, void, string>(options.name, {
      connection: this.#redis,
      prefix,
    });
    this.#claimKeyPrefix = `${prefix}:${options.name}:scalegate:claim:`;
    this.#deadLetterKey = `${prefix}:${options.name}:scalegate:dead-lettered`;
    this.#deadLetterCountKey = `${prefix}:${options.name}:scalegate:dead-lettered-count`;
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
   * Claims the id, then adds the job without waiting for the claim's reply. The claim goes
   * out first on the connection that the add uses, so Redis runs it first. `duplicate` is
   * true when the id's job exists (queued, running, or finished within the retention) or
   * another enqueue's claim of the id has not expired. The add also runs for duplicates:
   * BullMQ ignores an existing job id, and the retry of an enqueue whose producer was
   * killed after its claim adds the job then.
   */
  async enqueue(id: string, data: T, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    checkJobId(id);
    const priority = checkPriority(options.priority);
    this.#assertOpen();
    await this.#context.ready;
    const jobId = toBullmqJobId(id);
    const claimKey = `${this.#claimKeyPrefix}${id}`;
    const claimTtlMs = String(Math.min(MAX_CLAIM_TTL_MS, this.#options.retentionMs));
    const [claim, add] = await Promise.allSettled([
      this.#redis.scalegateClaimJobId(this.#queue.toKey(jobId), claimKey, claimTtlMs),
      this.#queue.add('task', data, {
        jobId,
        attempts: this.#options.maxAttempts,
        backoff: { type: BACKOFF_TYPE },
        // BullMQ deletes a finished job older than this at a later finish to the same set.
        removeOnComplete: { age: this.#retentionS },
        removeOnFail: { age: this.#retentionS },
        ...(priority === undefined ? {} : { priority }),
      }),
    ]);
    if (add.status === 'rejected') {
      // A retry right away is then no duplicate; the claim expires anyway if this DEL fails.
      if (claim.status === 'fulfilled' && claim.value === 1) {
        await this.#redis.del(claimKey).catch(() => undefined);
      }
      throw add.reason;
    }
    if (claim.status === 'rejected') throw claim.reason;
    return { id, duplicate: claim.value === 0 };
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
   * still count. `accepted` adds the jobs in every unfinished state. Each BullMQ script
   * moves a job from one state to the next in one step, and its add script stores the job
   * in the wait list, so `accepted` counts each job added once, and no claim whose add
   * never landed.
   */
  async counts(): Promise<QueueCounts> {
    const bullmqKeys = [...UNFINISHED_STATES, 'metrics:completed', 'metrics:failed'].map((name) =>
      this.#queue.toKey(name),
    );
    const reply = await this.#redis.scalegateCounts(...bullmqKeys, this.#deadLetterCountKey);
    const [accepted, completed, failed, deadLettered] = countsOf(reply);
    return { accepted, completed, failed: failed - deadLettered, deadLettered };
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
    await this.#deleteClaims();
    await this.#redis.del(this.#deadLetterKey, this.#deadLetterCountKey);
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

  /** Deletes the claims that have not expired yet; prefix and name contain no glob characters. */
  async #deleteClaims(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(
        cursor,
        'MATCH',
        `${this.#claimKeyPrefix}*`,
        'COUNT',
        500,
      );
      if (keys.length > 0) await this.#redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async #recordDeadLetter(jobId: string): Promise<void> {
    const now = this.#options.clock.now();
    await this.#redis.scalegateRecordDeadLetter(
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
    // BullMQ's times come from the system clock, so the wait is measured on it, then in the
    // driver clock's units: a drill's scaled clock runs `scale` times as fast and ahead of it.
    const scale = isScaledClock(this.#options.clock) ? this.#options.clock.scale : 1;
    return Math.max(0, (Date.now() - Math.min(...readyTimes)) * scale);
  }
}

/** Adds the driver's scripts to a connection. */
function withDriverCommands(redis: Redis): Redis & DriverCommands {
  redis.defineCommand('scalegateRecordDeadLetter', {
    numberOfKeys: 2,
    lua: RECORD_DEAD_LETTER_SCRIPT,
  });
  redis.defineCommand('scalegateClaimJobId', { numberOfKeys: 2, lua: CLAIM_JOB_ID_SCRIPT });
  redis.defineCommand('scalegateCounts', { numberOfKeys: 9, lua: COUNTS_SCRIPT });
  return redis as Redis & DriverCommands;
}

/** Reads the four integers of the counts script's reply. */
function countsOf(reply: unknown): [number, number, number, number] {
  if (!Array.isArray(reply) || reply.length !== 4 || !reply.every(Number.isInteger)) {
    throw new TypeError(`invalid queue counts reply from Redis: ${JSON.stringify(reply)}`);
  }
  return reply as [number, number, number, number];
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
