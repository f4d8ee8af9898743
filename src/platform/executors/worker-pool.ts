/**
 * Long-running worker pool: N forked processes, each consuming the BullMQ
 * queue with concurrency K. A process killed mid-job loses nothing: BullMQ's
 * stall detection returns its active jobs to waiting after stallIntervalMs.
 */
import { type ChildProcess, fork, type StdioOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import {
  type ResolvedWorkerPoolOptions,
  type WorkerPoolOptions,
  resolveWorkerPoolOptions,
} from './worker-pool-options.js';
import {
  type JobEndedEvent,
  type PoolMessage,
  WORKER_CONFIG_ENV,
  WORKER_CONFIG_FD,
  type WorkerProcessConfig,
  isWorkerMessage,
} from './worker-protocol.js';
import { TSX_EXEC_ARGV } from '../tsx-import.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

export interface WorkerExitEvent {
  index: number;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when stop() asked the process to exit. */
  expected: boolean;
}

export interface WorkerRestartEvent {
  index: number;
  pid: number | undefined;
}

interface WorkerPoolEventMap {
  exit: [WorkerExitEvent];
  restart: [WorkerRestartEvent];
  /** Metric calls a process's handler module recorded, as it sent them, and its slot index. */
  metrics: [calls: unknown[], processIndex: number];
  /** A job the queue ended in a process without its handler: failed for good or dead-lettered. */
  jobEnded: [JobEndedEvent];
}

/** Raised when a worker process fails to report ready. */
export class WorkerStartError extends Error {
  readonly code = 'worker_start_failed' as const;

  constructor(
    readonly index: number,
    reason: string,
  ) {
    super(`worker process ${index} failed to start: ${reason}`);
    this.name = 'WorkerStartError';
  }
}

export function isWorkerStartError(error: unknown): error is WorkerStartError {
  return error instanceof Error && (error as { code?: unknown }).code === 'worker_start_failed';
}

interface Slot {
  index: number;
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * A running pool of worker processes. It emits 'exit' for every process exit and
 * 'restart' for each replacement. It also emits 'metrics' for each batch of metric
 * calls a process sends, and 'jobEnded' for each job the queue ended without its handler.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEventMap> {
  readonly #options: ResolvedWorkerPoolOptions;
  readonly #slots: Slot[] = [];
  #stopping = false;

  constructor(options: ResolvedWorkerPoolOptions) {
    super();
    this.#options = options;
  }

  /** Process ids by worker index; undefined for a process that has exited. */
  get pids(): (number | undefined)[] {
    return this.#slots.map((slot) =>
      slot.child.exitCode === null && slot.child.signalCode === null ? slot.child.pid : undefined,
    );
  }

  /** Sends `signal` to worker `index`; returns false when no such live process exists. */
  kill(index: number, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    const slot = this.#slots[index];
    return slot !== undefined && slot.child.exitCode === null && slot.child.kill(signal);
  }

  /**
   * Asks every live process to end its running jobs now, through its handler module's
   * `abortHandler`. Processes keep draining and exit as usual.
   */
  abortRunning(): void {
    const message: PoolMessage = { type: 'abortRunning' };
    for (const slot of this.#slots) {
      if (slot.child.connected) slot.child.send(message);
    }
  }

  /**
   * Asks every process to drain within `killAfterMs` (shutdownTimeoutMs unless given),
   * through a `drain` message or SIGTERM when its IPC channel is closed. Sends SIGKILL to
   * the processes still running after `killAfterMs` and resolves when all exited.
   */
  async stop(killAfterMs = this.#options.shutdownTimeoutMs): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#slots.map((slot) => this.#stopSlot(slot, killAfterMs)));
  }

  /** Forks every process and resolves once each reported ready. */
  async start(): Promise<void> {
    const starts = [];
    for (let index = 0; index < this.#options.processes; index += 1) {
      starts.push(this.#spawn(index));
    }
    try {
      await Promise.all(starts);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  #spawn(index: number): Promise<void> {
    const stdio: StdioOptions = ['ignore', 'inherit', 'inherit', 'ipc'];
    stdio[WORKER_CONFIG_FD] = 'pipe';
    const child = fork(WORKER_ENTRY, [], {
      execArgv: [...TSX_EXEC_ARGV],
      // A config variable inherited from this process's environment would win over the pipe.
      env: { ...process.env, [WORKER_CONFIG_ENV]: undefined },
      stdio,
      serialization: 'json',
    });
    // The process reads the pipe to its end while it loads, so the config needs no size limit.
    const configPipe = child.stdio[WORKER_CONFIG_FD] as Writable;
    // A process that dies before it reads the config fails the write with EPIPE, and its exit
    // reports that death.
    configPipe.on('error', () => undefined);
    configPipe.end(JSON.stringify(this.#processConfig(index)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.#slots[index] = { index, child, exited };
    child.once('exit', (code, signal) => this.#onExit(index, child, code, signal));
    child.on('message', (message) => {
      if (!isWorkerMessage(message)) return;
      if (message.type === 'metrics') this.emit('metrics', message.calls, index);
      if (message.type === 'jobEnded') {
        const { id, state, data } = message;
        this.emit('jobEnded', { id, state, message: message.message, data });
      }
    });
    return this.#awaitReady(index, child);
  }

  #processConfig(index: number): WorkerProcessConfig {
    const { concurrency, globalConcurrency, queue, handlerModule, handlerConfig, logLevel } =
      this.#options;
    return {
      index,
      concurrency,
      globalConcurrency,
      queue,
      handlerModule,
      handlerConfig,
      logLevel,
      drainTimeoutMs: this.#options.shutdownTimeoutMs,
      abortGraceMs: this.#options.abortGraceMs,
    };
  }

  #awaitReady(index: number, child: ChildProcess): Promise<void> {
    const { clock, startTimeoutMs } = this.#options;
    return new Promise<void>((resolve, reject) => {
      const fail = (reason: string): void => {
        clock.clearTimeout(timer);
        reject(new WorkerStartError(index, reason));
      };
      const timer = clock.setTimeout(
        () => fail(`not ready after ${startTimeoutMs} ms`),
        startTimeoutMs,
      );
      child.on('message', (message) => {
        if (isWorkerMessage(message) && message.type === 'ready') {
          clock.clearTimeout(timer);
          resolve();
        } else if (isWorkerMessage(message) && message.type === 'startFailed') {
          fail(message.message);
        }
      });
      child.once('exit', (code, signal) => fail(`exited with code ${code} and signal ${signal}`));
    });
  }

  #onExit(
    index: number,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    this.emit('exit', { index, pid: child.pid, code, signal, expected: this.#stopping });
    if (this.#stopping || !this.#options.restartCrashed || this.#slots[index]?.child !== child) {
      return;
    }
    this.#options.clock.setTimeout(() => this.#restart(index), this.#options.restartDelayMs);
  }

  #restart(index: number): void {
    if (this.#stopping) {
      return;
    }
    const ready = this.#spawn(index);
    this.emit('restart', { index, pid: this.#slots[index]?.child.pid });
    // A replacement that fails to start exits, and its exit schedules the next try.
    ready.catch(() => undefined);
  }

  async #stopSlot(slot: Slot, killAfterMs: number): Promise<void> {
    const { child } = slot;
    if (child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const { clock } = this.#options;
    const timer = clock.setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    if (child.connected) {
      const message: PoolMessage = { type: 'drain', timeoutMs: killAfterMs };
      // A channel that closed since the check gets SIGTERM in its place.
      child.send(message, (error) => {
        if (error !== null) child.kill('SIGTERM');
      });
    } else {
      child.kill('SIGTERM');
    }
    await slot.exited;
    clock.clearTimeout(timer);
  }
}

/**
 * Validates options, forks the worker processes and resolves once all are ready.
 * `attach` runs before the first fork, so listeners it adds receive every event. A
 * process that is ready takes jobs while the others still start, and an event emitted
 * before a listener exists is lost.
 */
export async function startWorkerPool(
  options: WorkerPoolOptions,
  attach?: (pool: WorkerPool) => void,
): Promise<WorkerPool> {
  const pool = new WorkerPool(resolveWorkerPoolOptions(options));
  attach?.(pool);
  await pool.start();
  return pool;
}
