/**
 * The task queue interface shared by the in-memory and BullMQ drivers. Both
 * drivers pass the same conformance suite, so callers can swap them freely.
 */
import type { QueueEventMap } from './events.js';

/** One delivery of a job to a handler. */
export interface QueueJob<T> {
  id: string;
  data: T;
  /** 1-based attempt number; it grows when a handler throws and the job is retried. */
  attempt: number;
  /** Times this job was handed to a handler, stall redeliveries included. */
  deliveries: number;
  /** Milliseconds since the Unix epoch when the job was accepted. */
  enqueuedAt: number;
}

/**
 * Resolving acknowledges the job. Throwing retries it, fails it at once for a
 * NonRetryableError, or delivers it again after a wait for a DeferError.
 */
export type JobHandler<T> = (job: QueueJob<T>) => Promise<void>;

export interface EnqueueOptions {
  /**
   * Positive integer, lower runs first. Jobs without a priority run before
   * prioritized jobs, as in BullMQ.
   * @defaultValue no priority
   */
  priority?: number;
}

export interface EnqueueResult {
  id: string;
  /**
   * True when the queue still has a job with this id, as {@link TaskQueue.hasJob} reports,
   * or another enqueue of the id is under way. The job is not enqueued again.
   */
  duplicate: boolean;
}

export interface ConsumeOptions {
  /** Handlers this consumer runs at once. */
  concurrency: number;
}

/** A running consumer of one queue. */
export interface Consumer {
  /** Stops taking jobs and resolves once every active handler has finished. */
  drain(): Promise<void>;
  /**
   * Stops at once without waiting for active handlers. Their jobs stay active
   * until stall detection returns them to waiting, as after a crash.
   */
  close(): Promise<void>;
  /**
   * Stops taking new jobs until `resume`, while active handlers run to their end. Jobs stay
   * waiting meanwhile, so the queue backs up as when workers are lost. Calling it on a
   * paused consumer changes nothing.
   * NOTE: a BullMQ worker with free slots may still start the jobs that its fetches under
   * way return, at most one per free slot.
   */
  pause(): Promise<void>;
  /** Takes jobs again after `pause`; calling it on a running consumer changes nothing. */
  resume(): Promise<void>;
  /** True between `pause` and `resume`. */
  readonly paused: boolean;
  /** Handlers running now. */
  readonly active: number;
}

/** Terminal accounting: once idle, accepted = completed + failed + deadLettered. */
export interface QueueCounts {
  /**
   * Jobs accepted over the queue's lifetime, each once, those deleted after their
   * retention included. An id accepted again after its job was deleted counts again.
   */
  accepted: number;
  completed: number;
  /** Jobs that failed without retry: a NonRetryableError, or too many stalls. */
  failed: number;
  /** Jobs whose handler threw on every one of maxAttempts attempts. */
  deadLettered: number;
}

export interface QueueGauges {
  /** Jobs waiting plus jobs delayed for a retry backoff. */
  depth: number;
  active: number;
  /**
   * Maximum time a waiting job has waited since it last entered the waiting line: since its
   * enqueue, or since it returned after a deferral, a retry backoff or a stall. 0 when none
   * waits.
   */
  oldestAgeMs: number;
  completed: number;
  failed: number;
  deadLettered: number;
}

export interface DeadLetterEntry<T> {
  id: string;
  data: T;
  attempts: number;
  /** Message of the error thrown by the last attempt. */
  error: string;
  deadLetteredAt: number;
}

export interface ListOptions {
  /** @defaultValue 100 */
  limit?: number;
}

/** A durable or in-memory queue of jobs carrying data of type T. */
export interface TaskQueue<T> {
  readonly name: string;
  /**
   * Accepts a job. An id whose job the queue still has returns `duplicate: true` and runs
   * once. A job stays until at least the retention after it finished, so an id is a
   * duplicate for at least the retention after its first enqueue, and is accepted again
   * once its job was deleted.
   */
  enqueue(id: string, data: T, options?: EnqueueOptions): Promise<EnqueueResult>;
  /**
   * Returns whether the queue has a job with this id: waiting, delayed, running, or
   * finished and within its retention. A finished job is deleted at the first finish of
   * another job after its retention.
   */
  hasJob(id: string): Promise<boolean>;
  consume(handler: JobHandler<T>, options: ConsumeOptions): Consumer;
  counts(): Promise<QueueCounts>;
  gauges(): Promise<QueueGauges>;
  /** Dead-lettered jobs, oldest first. */
  listDeadLettered(options?: ListOptions): Promise<DeadLetterEntry<T>[]>;
  on<K extends keyof QueueEventMap>(event: K, listener: (payload: QueueEventMap[K]) => void): this;
  off<K extends keyof QueueEventMap>(event: K, listener: (payload: QueueEventMap[K]) => void): this;
  /** Closes consumers at once and releases timers and connections. */
  close(): Promise<void>;
}
