/**
 * In-process workers: the embedded default, where the queue (often the
 * in-memory driver) and its consumers share the gateway's process.
 */
import type { Consumer, JobHandler, TaskQueue } from '../queue/index.js';

export interface InProcessWorkersOptions<T> {
  queue: TaskQueue<T>;
  /** Jobs run at once. */
  concurrency: number;
  handler: JobHandler<T>;
}

export interface InProcessWorkers {
  readonly consumer: Consumer;
  /** Stops taking jobs and resolves once active handlers finish. */
  stop(): Promise<void>;
}

/** Starts consuming `queue` in this process. */
export function startInProcessWorkers<T>(options: InProcessWorkersOptions<T>): InProcessWorkers {
  if (typeof options.handler !== 'function') {
    throw new TypeError(`handler must be a function, got ${typeof options.handler}`);
  }
  const consumer = options.queue.consume(options.handler, { concurrency: options.concurrency });
  return { consumer, stop: () => consumer.drain() };
}
