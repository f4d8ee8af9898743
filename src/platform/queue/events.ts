/**
 * Typed events emitted by a TaskQueue. Events come from the consumers of the
 * queue object that emits them: a BullMQ queue in another process emits its own.
 */
import { EventEmitter } from 'node:events';

export interface CompletedEvent {
  id: string;
  attempt: number;
  deliveries: number;
}

export interface FailedEvent {
  id: string;
  attempt: number;
  error: Error;
  /** The job's payload as enqueued. */
  data: unknown;
}

export interface RetriedEvent {
  id: string;
  /** The attempt that threw. */
  attempt: number;
  /** Backoff before the next attempt. */
  delayMs: number;
  error: Error;
}

export interface DeadLetteredEvent {
  id: string;
  attempts: number;
  error: Error;
  /** The job's payload as enqueued. */
  data: unknown;
}

export interface StalledEvent {
  id: string;
}

/** A Redis connection error; the driver keeps reconnecting. */
export interface ConnectionErrorEvent {
  error: Error;
}

export interface QueueEventMap {
  completed: CompletedEvent;
  failed: FailedEvent;
  retried: RetriedEvent;
  deadLettered: DeadLetteredEvent;
  stalled: StalledEvent;
  connectionError: ConnectionErrorEvent;
}

type ListenerMap = { [K in keyof QueueEventMap]: [QueueEventMap[K]] };

/** EventEmitter whose event names and payloads follow QueueEventMap. */
export class QueueEvents extends EventEmitter<ListenerMap> {}
