import type { Logger } from 'pino';

import { withTimeout } from '../timeout.js';
import { isUnavailableError } from './unavailable.js';

export interface StoreRepairsOptions {
  /** Maximum wait for one attempt, in ms. */
  attemptTimeoutMs: number;
  /** @defaultValue 250 */
  retryMinMs?: number;
  /** @defaultValue 5000 */
  retryMaxMs?: number;
  logger?: Logger;
}

interface Repair {
  description: string;
  ids: Record<string, string>;
  /**
   * Resolves when the repair ended: true when the write went through, false when it
   * failed for good or was given up at close.
   */
  done: Promise<boolean>;
}

/**
 * Retries idempotent store writes that a request could not complete because the
 * store did not reply, such as marking failed a task whose enqueue timed out. Each
 * write is retried with exponential backoff while the store stays unavailable, so that
 * it runs once the store is back. ioredis sends the commands of one connection in
 * order, so when the repair and the timed-out write share a connection, as the
 * platform's store and admission calls do, the repair runs after that write lands.
 */
export class StoreRepairs {
  readonly #options: StoreRepairsOptions;
  readonly #pending = new Set<Repair>();
  #closed = false;

  constructor(options: StoreRepairsOptions) {
    this.#options = options;
  }

  /**
   * Runs `write` in the background until it resolves. `ids`, such as the task id, go
   * into the log line of a repair that failed for good or was given up at close.
   */
  schedule(description: string, ids: Record<string, string>, write: () => Promise<unknown>) {
    const repair: Repair = { description, ids, done: Promise.resolve(true) };
    repair.done = this.#retry(repair, write).finally(() => this.#pending.delete(repair));
    this.#pending.add(repair);
  }

  /**
   * Waits for the repairs pending for this task id, and returns true when each of them
   * went through, which is also the case when none is pending.
   */
  async settledFor(taskId: string): Promise<boolean> {
    const repairs = [...this.#pending].filter((repair) => repair.ids.taskId === taskId);
    const results = await Promise.all(repairs.map((repair) => repair.done));
    return results.every(Boolean);
  }

  /**
   * Waits up to `timeoutMs` for the pending repairs, then stops retrying and logs an
   * error for each repair left, with its ids.
   */
  async close(timeoutMs: number): Promise<void> {
    const all = Promise.all([...this.#pending].map((repair) => repair.done));
    await withTimeout(all, timeoutMs, 'store repairs').catch(() => undefined);
    this.#closed = true;
    for (const repair of this.#pending) {
      this.#options.logger?.error(
        { ...repair.ids },
        `${repair.description} was given up at shutdown because the store still did not reply`,
      );
    }
  }

  async #retry(repair: Repair, write: () => Promise<unknown>): Promise<boolean> {
    const minMs = this.#options.retryMinMs ?? 250;
    const maxMs = this.#options.retryMaxMs ?? 5000;
    for (let attempt = 0; !this.#closed; attempt += 1) {
      try {
        await withTimeout(write(), this.#options.attemptTimeoutMs, repair.description);
        return true;
      } catch (error) {
        if (!isUnavailableError(error)) {
          this.#options.logger?.error(
            { err: error, ...repair.ids },
            `${repair.description} failed`,
          );
          return false;
        }
      }
      const delayMs = Math.min(maxMs, minMs * 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
    }
    return false;
  }
}
