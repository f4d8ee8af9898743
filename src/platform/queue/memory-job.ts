/** State of one job in the in-memory driver. */
import type { MemoryConsumer } from './memory-consumer.js';

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'deadLettered';

export interface Lease<T> {
  consumer: MemoryConsumer<T>;
  token: number;
  expiresAt: number;
}

export interface MemoryJob<T> {
  id: string;
  data: T;
  priority?: number;
  seq: number;
  enqueuedAt: number;
  /** When the job last entered the waiting line: at its enqueue or when it returned to it. */
  readyAt: number;
  state: JobState;
  attemptsMade: number;
  deliveries: number;
  stalls: number;
  lease?: Lease<T>;
  lastError?: Error;
  finishedAt?: number;
}
