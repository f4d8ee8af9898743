import type { Consumer } from '../queue/index.js';

/** Raised when the async workers cannot be paused, because they run in worker processes. */
export class WorkerPauseUnsupportedError extends Error {
  readonly code = 'worker_pause_unsupported';
  constructor(readonly processes: number) {
    super(
      `pausing the async workers needs in-process consumers, but this platform runs them in ` +
        `${processes} worker processes on Redis; unset REDIS_URL to use the embedded queue`,
    );
    this.name = 'WorkerPauseUnsupportedError';
  }
}

export function isWorkerPauseUnsupportedError(
  error: unknown,
): error is WorkerPauseUnsupportedError {
  return error instanceof WorkerPauseUnsupportedError;
}

/**
 * Pauses and resumes the platform's async workers, as a drill that takes executor capacity
 * away does. Paused workers finish their running tasks and start no new one, so the queue
 * backs up. Sync tasks do not use these workers.
 */
export interface WorkerSwitch {
  /** Async tasks the workers run at once, the topology's `workers`. */
  readonly slots: number;
  /** Worker processes that run the workers; 0 when they run in the platform's process. */
  readonly processes: number;
  /** False when the workers run in worker processes, which `pause` cannot reach. */
  readonly pausable: boolean;
  readonly paused: boolean;
  /** @throws {@link WorkerPauseUnsupportedError} when `pausable` is false. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/** Creates the switch of in-process consumers, or of a pool of `processes` worker processes. */
export function createWorkerSwitch(
  slots: number,
  target: { consumer: Consumer } | { processes: number },
): WorkerSwitch {
  if ('processes' in target) {
    const unsupported = () => Promise.reject(new WorkerPauseUnsupportedError(target.processes));
    return {
      slots,
      processes: target.processes,
      pausable: false,
      paused: false,
      pause: unsupported,
      resume: async () => {},
    };
  }
  const { consumer } = target;
  return {
    slots,
    processes: 0,
    pausable: true,
    get paused() {
      return consumer.paused;
    },
    pause: () => consumer.pause(),
    resume: () => consumer.resume(),
  };
}
