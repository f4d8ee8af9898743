/**
 * In-memory TaskQueue driver for the embedded default. Every timer (backoff,
 * heartbeat, stall check) goes through the injected Clock. Jobs live only in
 * this process, so it cannot serve worker processes.
 */
import { backoffDelayMs } from './backoff.js';
import {
  QueueClosedError,
  StallLimitError,
  isDeferError,
  isNonRetryableError,
  toError,
} from './errors.js';
import { type QueueEventMap, QueueEvents } from './events.js';
import { MemoryConsumer } from './memory-consumer.js';
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
import type { MemoryJob } from './memory-job.js';
import { StallMonitor } from './memory-stall-monitor.js';
import { WaitingLine } from './waiting-line.js';

/** Creates an in-memory queue; `options.clock` drives backoff and stall timers. */
export function createMemoryQueue<T>(options: QueueOptions): TaskQueue<T> {
  return new MemoryQueue<T>(resolveQueueOptions(options));
}

class MemoryQueue<T> implements TaskQueue<T> {
  readonly name: string;
  readonly #options: ResolvedQueueOptions;
  readonly #events = new QueueEvents();
  /**
   * Every job until its retention after it finished ends, as BullMQ keeps them, so an id is
   * a duplicate while its job is here. Finished jobs drop their data, and dead-lettered
   * ones keep it until their retention ends.
   */
  readonly #jobs = new Map<string, MemoryJob<T>>();
  /** Finished jobs still in #jobs, in the order they finished. */
  readonly #finished = new Map<string, MemoryJob<T>>();
  readonly #waiting = new WaitingLine<MemoryJob<T>>();
  readonly #backoffTimers = new Set<NodeJS.Timeout>();
  /** Dead-lettered jobs in the order they were dead-lettered, until their retention ends. */
  readonly #deadLettered: MemoryJob<T>[] = [];
  #deadLetteredCount = 0;
  /** Jobs accepted over the queue's lifetime, those deleted after their retention included. */
  #accepted = 0;
  #consumers: MemoryConsumer<T>[] = [];
  #nextConsumer = 0;
  #seq = 0;
  #leaseToken = 0;
  readonly #activeJobs = new Set<MemoryJob<T>>();
  #delayed = 0;
  #completed = 0;
  #failed = 0;
  readonly #stallMonitor: StallMonitor<T>;
  #pumpScheduled = false;
  #closed = false;

  constructor(options: ResolvedQueueOptions) {
    this.name = options.name;
    this.#options = options;
    this.#stallMonitor = new StallMonitor(options, this.#activeJobs, (job) => this.#stall(job));
  }

  async enqueue(id: string, data: T, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    checkJobId(id);
    const priority = checkPriority(options.priority);
    this.#assertOpen();
    if (this.#jobs.has(id)) {
      return { id, duplicate: true };
    }
    const now = this.#options.clock.now();
    const job: MemoryJob<T> = {
      id,
      data,
      seq: this.#nextSeq(),
      enqueuedAt: now,
      readyAt: now,
      state: 'waiting',
      attemptsMade: 0,
      deliveries: 0,
      stalls: 0,
    };
    if (priority !== undefined) {
      job.priority = priority;
    }
    this.#jobs.set(id, job);
    this.#accepted += 1;
    this.#waiting.push(job);
    this.#schedulePump();
    return { id, duplicate: false };
  }

  async hasJob(id: string): Promise<boolean> {
    checkJobId(id);
    this.#assertOpen();
    return this.#jobs.has(id);
  }

  consume(handler: JobHandler<T>, options: ConsumeOptions): Consumer {
    const concurrency = integerAtLeast('concurrency', options.concurrency, 1);
    this.#assertOpen();
    const consumer = new MemoryConsumer(
      handler,
      concurrency,
      (stopped) => this.#remove(stopped),
      () => this.#schedulePump(),
    );
    this.#consumers.push(consumer);
    this.#stallMonitor.start();
    this.#schedulePump();
    return consumer;
  }

  async counts(): Promise<QueueCounts> {
    return {
      accepted: this.#accepted,
      completed: this.#completed,
      failed: this.#failed,
      deadLettered: this.#deadLetteredCount,
    };
  }

  async gauges(): Promise<QueueGauges> {
    return {
      depth: this.#waiting.size + this.#delayed,
      active: this.#activeJobs.size,
      oldestAgeMs: this.#waiting.oldestAgeMs(this.#options.clock.now()),
      completed: this.#completed,
      failed: this.#failed,
      deadLettered: this.#deadLetteredCount,
    };
  }

  async listDeadLettered(options: ListOptions = {}): Promise<DeadLetterEntry<T>[]> {
    const limit = integerAtLeast('limit', options.limit ?? 100, 1);
    return this.#deadLettered.slice(0, limit).map((job) => ({
      id: job.id,
      data: job.data,
      attempts: job.attemptsMade,
      error: job.lastError?.message ?? '',
      deadLetteredAt: job.finishedAt ?? 0,
    }));
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
    this.#closed = true;
    await Promise.all(this.#consumers.map((consumer) => consumer.close()));
    for (const timer of this.#backoffTimers) {
      this.#options.clock.clearTimeout(timer);
    }
    this.#backoffTimers.clear();
    this.#stallMonitor.stop();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new QueueClosedError(this.name);
    }
  }

  #nextSeq(): number {
    this.#seq += 1;
    return this.#seq;
  }

  #remove(consumer: MemoryConsumer<T>): void {
    this.#consumers = this.#consumers.filter((other) => other !== consumer);
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) {
      return;
    }
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Hands waiting jobs to consumers with free slots, round-robin, within the global cap. */
  #pump(): void {
    while (this.#waiting.size > 0 && this.#underGlobalCap()) {
      const consumer = this.#pickConsumer();
      const job = consumer === undefined ? undefined : this.#waiting.shift();
      if (consumer === undefined || job === undefined) {
        return;
      }
      this.#start(job, consumer);
    }
  }

  #underGlobalCap(): boolean {
    const cap = this.#options.globalConcurrency;
    return cap === undefined || this.#activeJobs.size < cap;
  }

  #pickConsumer(): MemoryConsumer<T> | undefined {
    const count = this.#consumers.length;
    for (let step = 0; step < count; step += 1) {
      const consumer = this.#consumers[(this.#nextConsumer + step) % count];
      if (consumer?.hasCapacity) {
        this.#nextConsumer = (this.#nextConsumer + step + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }

  #start(job: MemoryJob<T>, consumer: MemoryConsumer<T>): void {
    const token = ++this.#leaseToken;
    job.state = 'active';
    job.deliveries += 1;
    job.lease = {
      consumer,
      token,
      expiresAt: this.#options.clock.now() + this.#options.stallIntervalMs,
    };
    this.#activeJobs.add(job);
    consumer.running.add(job.id);
    const delivery = {
      id: job.id,
      data: job.data,
      attempt: job.attemptsMade + 1,
      deliveries: job.deliveries,
      enqueuedAt: job.enqueuedAt,
    };
    Promise.resolve()
      .then(() => consumer.handler(delivery))
      .then(
        () => this.#settle(job, consumer, token, undefined),
        (thrown: unknown) => this.#settle(job, consumer, token, toError(thrown)),
      );
  }

  /** Applies a handler outcome unless the delivery lost its lease (stalled or abandoned). */
  #settle(
    job: MemoryJob<T>,
    consumer: MemoryConsumer<T>,
    token: number,
    error: Error | undefined,
  ): void {
    consumer.finish(job.id);
    if (job.lease?.token !== token || consumer.state === 'closed' || job.state !== 'active') {
      return;
    }
    this.#leaveActive(job);
    if (error === undefined) {
      this.#complete(job);
    } else if (isDeferError(error)) {
      // A deferral is no attempt, so the job keeps its attempt count.
      this.#requeueAfter(job, error.delayMs);
    } else {
      this.#fail(job, error);
    }
    this.#schedulePump();
  }

  /** Returns the job to waiting after `delayMs`; it counts as delayed in the meantime. */
  #requeueAfter(job: MemoryJob<T>, delayMs: number): void {
    job.state = 'delayed';
    this.#delayed += 1;
    const timer = this.#options.clock.setTimeout(() => {
      this.#backoffTimers.delete(timer);
      this.#delayed -= 1;
      this.#requeue(job);
    }, delayMs);
    this.#backoffTimers.add(timer);
  }

  #leaveActive(job: MemoryJob<T>): void {
    job.lease = undefined;
    this.#activeJobs.delete(job);
  }

  #complete(job: MemoryJob<T>): void {
    job.state = 'completed';
    this.#finish(job);
    this.#completed += 1;
    this.#events.emit('completed', {
      id: job.id,
      attempt: job.attemptsMade + 1,
      deliveries: job.deliveries,
    });
    this.#dropData(job);
  }

  #fail(job: MemoryJob<T>, error: Error): void {
    job.attemptsMade += 1;
    job.lastError = error;
    if (isNonRetryableError(error)) {
      this.#failTerminally(job, error);
    } else if (job.attemptsMade >= this.#options.maxAttempts) {
      this.#deadLetter(job, error);
    } else {
      this.#retryLater(job, error);
    }
  }

  #failTerminally(job: MemoryJob<T>, error: Error): void {
    job.state = 'failed';
    this.#finish(job);
    this.#failed += 1;
    this.#events.emit('failed', { id: job.id, attempt: job.attemptsMade, error, data: job.data });
    this.#dropData(job);
  }

  #deadLetter(job: MemoryJob<T>, error: Error): void {
    job.state = 'deadLettered';
    this.#finish(job);
    this.#deadLettered.push(job);
    this.#deadLetteredCount += 1;
    const event = { id: job.id, attempts: job.attemptsMade, error, data: job.data };
    this.#events.emit('deadLettered', event);
  }

  #retryLater(job: MemoryJob<T>, error: Error): void {
    const { backoffBaseMs, backoffMaxMs, random } = this.#options;
    const delayMs = backoffDelayMs(job.attemptsMade, {
      baseMs: backoffBaseMs,
      maxMs: backoffMaxMs,
      random,
    });
    this.#requeueAfter(job, delayMs);
    this.#events.emit('retried', { id: job.id, attempt: job.attemptsMade, delayMs, error });
  }

  #requeue(job: MemoryJob<T>): void {
    job.state = 'waiting';
    job.seq = this.#nextSeq();
    job.readyAt = this.#options.clock.now();
    this.#waiting.push(job);
    this.#schedulePump();
  }

  /**
   * Stamps the job's finish, then deletes the jobs whose retention has ended, as BullMQ
   * does when another job finishes. Their ids are accepted again from then on.
   */
  #finish(job: MemoryJob<T>): void {
    const now = this.#options.clock.now();
    job.finishedAt = now;
    this.#finished.set(job.id, job);
    const cutoff = now - this.#options.retentionMs;
    for (const [id, finished] of this.#finished) {
      if ((finished.finishedAt ?? now) >= cutoff) break;
      this.#finished.delete(id);
      this.#jobs.delete(id);
    }
    this.#dropExpiredDeadLetters(cutoff);
  }

  /** Drops the dead-lettered jobs that finished before `cutoff`, with their data. */
  #dropExpiredDeadLetters(cutoff: number): void {
    let expired = 0;
    while ((this.#deadLettered[expired]?.finishedAt ?? cutoff) < cutoff) expired += 1;
    for (const job of this.#deadLettered.splice(0, expired)) this.#dropData(job);
  }

  #dropData(job: MemoryJob<T>): void {
    (job as { data: T | undefined }).data = undefined;
  }

  #stall(job: MemoryJob<T>): void {
    this.#leaveActive(job);
    job.stalls += 1;
    this.#events.emit('stalled', { id: job.id });
    if (job.stalls > this.#options.maxStalls) {
      job.attemptsMade += 1;
      this.#failTerminally(job, new StallLimitError(job.id, job.stalls));
      return;
    }
    this.#requeue(job);
  }
}
