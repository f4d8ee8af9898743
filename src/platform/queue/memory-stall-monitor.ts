/**
 * Heartbeat and stall detection for the in-memory driver. Every
 * stallIntervalMs / 2 it renews the leases of jobs whose consumer is still
 * open, then hands every job whose lease expired to `onStall`.
 */
import type { Clock } from '../clock.js';
import type { MemoryJob } from './memory-job.js';

export class StallMonitor<T> {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly options: { clock: Clock; stallIntervalMs: number },
    private readonly activeJobs: ReadonlySet<MemoryJob<T>>,
    private readonly onStall: (job: MemoryJob<T>) => void,
  ) {}

  start(): void {
    if (this.#timer === undefined && !this.#stopped) {
      this.#schedule();
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) {
      this.options.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #schedule(): void {
    const period = Math.max(5, Math.floor(this.options.stallIntervalMs / 2));
    this.#timer = this.options.clock.setTimeout(() => this.#tick(), period);
    // The monitor alone must not keep the process alive.
    this.#timer.unref?.();
  }

  #tick(): void {
    this.#renewLeases();
    this.#redeliverExpired();
    this.#schedule();
  }

  #renewLeases(): void {
    const expiresAt = this.options.clock.now() + this.options.stallIntervalMs;
    for (const job of this.activeJobs) {
      if (job.lease !== undefined && job.lease.consumer.state !== 'closed') {
        job.lease.expiresAt = expiresAt;
      }
    }
  }

  #redeliverExpired(): void {
    const now = this.options.clock.now();
    for (const job of [...this.activeJobs]) {
      if (job.lease !== undefined && job.lease.expiresAt <= now) {
        this.onStall(job);
      }
    }
  }
}
