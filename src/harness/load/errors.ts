/** Raised when the target's `GET /healthz` probe fails before a run starts. */
export class TargetUnreachableError extends Error {
  readonly code = 'TARGET_UNREACHABLE';

  constructor(
    readonly url: string,
    detail: string,
  ) {
    super(
      `load target ${url} is unreachable: ${detail}; start the gateway or pass another --target`,
    );
    this.name = 'TargetUnreachableError';
  }
}

export function isTargetUnreachableError(error: unknown): error is TargetUnreachableError {
  return error instanceof TargetUnreachableError;
}

/** Reason of the abort signal when SIGINT or SIGTERM interrupts `scalegate load`. */
export class LoadInterruptedError extends Error {
  readonly code = 'LOAD_INTERRUPTED';

  constructor(readonly signalName: NodeJS.Signals) {
    super(`interrupted by ${signalName}`);
    this.name = 'LoadInterruptedError';
  }
}

export function isLoadInterruptedError(error: unknown): error is LoadInterruptedError {
  return error instanceof LoadInterruptedError;
}
