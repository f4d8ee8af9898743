/** Consumer bookkeeping for the in-memory driver. */
import type { Consumer, JobHandler } from './queue.js';

export type ConsumerState = 'running' | 'draining' | 'closed';

/** One consumer of a memory queue; the queue decides which jobs it runs. */
export class MemoryConsumer<T> implements Consumer {
  state: ConsumerState = 'running';
  readonly running = new Set<string>();
  #idleWaiters: (() => void)[] = [];
  #paused = false;

  /** `onResume` lets the queue hand out the jobs that waited while this consumer was paused. */
  constructor(
    readonly handler: JobHandler<T>,
    readonly concurrency: number,
    private readonly onStop: (consumer: MemoryConsumer<T>) => void,
    private readonly onResume: () => void = () => undefined,
  ) {}

  get active(): number {
    return this.running.size;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get hasCapacity(): boolean {
    return this.state === 'running' && !this.#paused && this.running.size < this.concurrency;
  }

  async pause(): Promise<void> {
    this.#paused = true;
  }

  async resume(): Promise<void> {
    if (!this.#paused) return;
    this.#paused = false;
    this.onResume();
  }

  async drain(): Promise<void> {
    if (this.state === 'running') {
      this.state = 'draining';
    }
    if (this.running.size > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    this.#stop();
  }

  async close(): Promise<void> {
    this.#stop();
    this.#wakeIdleWaiters();
  }

  /** Records that a handler of this consumer returned. */
  finish(jobId: string): void {
    this.running.delete(jobId);
    if (this.running.size === 0) {
      this.#wakeIdleWaiters();
    }
  }

  #stop(): void {
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.onStop(this);
    }
  }

  #wakeIdleWaiters(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) {
      wake();
    }
  }
}
