/** Task queue: one interface, an in-memory driver and a BullMQ driver. */
export type * from './queue.js';
export type * from './events.js';
export type { QueueOptions } from './options.js';
export { backoffDelayMs, type BackoffPolicy } from './backoff.js';
export {
  DeferError,
  isDeferError,
  NonRetryableError,
  QueueClosedError,
  StallLimitError,
  isNonRetryableError,
  isQueueClosedError,
  isStallLimitError,
} from './errors.js';
export { createMemoryQueue } from './memory.js';
export { createBullmqQueue, type BullmqQueueOptions, type BullmqTaskQueue } from './bullmq.js';
