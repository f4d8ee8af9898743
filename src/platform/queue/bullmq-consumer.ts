/** A Consumer backed by one BullMQ Worker. */
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';

import { backoffDelayMs } from './backoff.js';
import { isDeferError, isNonRetryableError, toError } from './errors.js';
import type { DeadLetteredEvent, QueueEvents } from './events.js';
import { fromBullmqJobId } from './bullmq-job-id.js';
import type { ResolvedQueueOptions } from './options.js';
import type { RedisConnectionSettings } from './redis-connection.js';
import type { Consumer, JobHandler } from './queue.js';

/** Settings and callbacks a consumer receives from the queue that created it. */
export interface ConsumerContext {
  options: ResolvedQueueOptions;
  prefix: string;
  redis: RedisConnectionSettings;
  events: QueueEvents;
  /** Resolves once queue-level settings (the global cap) are written. */
  ready: Promise<void>;
  /** Records a dead-lettered job id durably. */
  recordDeadLetter(jobId: string): Promise<void>;
}

export const BACKOFF_TYPE = 'scalegate';

export class BullmqConsumer<T> implements Consumer {
  readonly #worker: Worker<T>;
  readonly #context: ConsumerContext;
  /** Errors thrown by handlers, kept until the matching 'failed' event reads them. */
  readonly #handlerErrors = new Map<string, Error>();
  readonly #retryDelays = new Map<string, number>();
  #active = 0;
  #closing: Promise<void> | undefined;

  constructor(handler: JobHandler<T>, concurrency: number, context: ConsumerContext) {
    this.#context = context;
    this.#worker = this.#createWorker(handler, concurrency);
    this.#listen();
    context.ready.then(
      () => this.#run(),
      (error: unknown) => context.events.emit('connectionError', { error: toError(error) }),
    );
  }

  get active(): number {
    return this.#active;
  }

  get paused(): boolean {
    return this.#worker.isPaused();
  }

  /** Pauses this worker only, not the queue, and does not wait for its active jobs. */
  async pause(): Promise<void> {
    await this.#worker.pause(true);
  }

  /** Only a paused worker resumes, because BullMQ's resume starts a worker that never ran. */
  async resume(): Promise<void> {
    if (this.#worker.isPaused()) await this.#worker.resume();
  }

  drain(): Promise<void> {
    this.#closing ??= this.#worker.close(false);
    return this.#closing;
  }

  close(): Promise<void> {
    this.#closing ??= this.#worker.close(true);
    return this.#closing;
  }

  #createWorker(handler: JobHandler<T>, concurrency: number): Worker<T> {
    const { options, prefix, redis } = this.#context;
    const processor = (job: Job<T>, token?: string) => this.#process(handler, job, token);
    return new Worker<T>(options.name, processor, {
      connection: redis,
      prefix,
      concurrency,
      autorun: false,
      lockDuration: options.stallIntervalMs,
      stalledInterval: options.stallIntervalMs,
      maxStalledCount: options.maxStalls,
      // BullMQ then counts finished jobs in the script that finishes each one, so the
      // queue's counts survive the deletion of jobs after their retention.
      metrics: { maxDataPoints: 1 },
      // A completion that fails on a lost connection is retried this soon.
      runRetryDelay: Math.min(1000, options.stallIntervalMs),
      settings: {
        backoffStrategy: (attemptsMade, _type, _error, job) => this.#backoff(attemptsMade, job?.id),
      },
    });
  }

  #run(): void {
    if (this.#closing === undefined) {
      this.#worker.run().catch((error: unknown) => {
        this.#context.events.emit('connectionError', { error: toError(error) });
      });
    }
  }

  async #process(handler: JobHandler<T>, job: Job<T>, token: string | undefined): Promise<void> {
    this.#active += 1;
    try {
      await handler({
        id: fromBullmqJobId(job.id),
        data: job.data,
        attempt: job.attemptsMade + 1,
        deliveries: job.attemptsStarted,
        enqueuedAt: job.timestamp,
      });
    } catch (thrown) {
      const error = toError(thrown);
      if (isDeferError(error)) {
        // BullMQ leaves attemptsMade alone for a job moved to delayed by its own worker.
        await job.moveToDelayed(Date.now() + error.delayMs, token);
        throw new DelayedError();
      }
      throw this.#translate(job, error);
    } finally {
      this.#active -= 1;
    }
  }

  /** Keeps the handler's error for events and maps a NonRetryableError to BullMQ's UnrecoverableError. */
  #translate(job: Job<T>, error: Error): Error {
    this.#handlerErrors.set(job.id ?? '', error);
    return isNonRetryableError(error) ? new UnrecoverableError(error.message) : error;
  }

  #backoff(attemptsMade: number, jobId: string | undefined): number {
    const { backoffBaseMs, backoffMaxMs, random } = this.#context.options;
    const delayMs = backoffDelayMs(attemptsMade, {
      baseMs: backoffBaseMs,
      maxMs: backoffMaxMs,
      random,
    });
    this.#retryDelays.set(jobId ?? '', delayMs);
    return delayMs;
  }

  #listen(): void {
    const { events } = this.#context;
    this.#worker.on('completed', (job) => {
      events.emit('completed', {
        id: fromBullmqJobId(job.id),
        attempt: job.attemptsMade,
        deliveries: job.attemptsStarted,
      });
    });
    this.#worker.on('failed', (job, error) => {
      if (job !== undefined) {
        this.#onFailed(job, error);
      }
    });
    this.#worker.on('stalled', (jobId) => events.emit('stalled', { id: fromBullmqJobId(jobId) }));
    this.#worker.on('error', (error) => events.emit('connectionError', { error }));
  }

  /** Classifies a BullMQ failure as a retry, a non-retryable failure or a dead letter. */
  #onFailed(job: Job<T>, bullmqError: Error): void {
    const rawId = job.id ?? '';
    const error = this.#handlerErrors.get(rawId) ?? bullmqError;
    const delayMs = this.#retryDelays.get(rawId);
    this.#handlerErrors.delete(rawId);
    this.#retryDelays.delete(rawId);
    const id = fromBullmqJobId(rawId);
    const { events, options } = this.#context;
    if (bullmqError instanceof UnrecoverableError) {
      events.emit('failed', { id, attempt: job.attemptsMade, error, data: job.data });
    } else if (job.attemptsMade >= options.maxAttempts) {
      this.#deadLetter(rawId, { id, attempts: job.attemptsMade, error, data: job.data });
    } else {
      events.emit('retried', { id, attempt: job.attemptsMade, delayMs: delayMs ?? 0, error });
    }
  }

  #deadLetter(rawId: string, event: DeadLetteredEvent): void {
    // NOTE: the dead-letter mark is written after BullMQ moved the job to failed, so for
    // one round trip (or for good, if this process dies in between) counts() reports it as failed.
    const { events } = this.#context;
    this.#context.recordDeadLetter(rawId).then(
      () => events.emit('deadLettered', event),
      (recordError: unknown) => events.emit('connectionError', { error: toError(recordError) }),
    );
  }
}
