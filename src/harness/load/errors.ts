import type { ReportIssue } from '../report/errors.js';
import { describeFirstIssue } from '../report/schema-check.js';

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

/** Reason of the abort signal when SIGINT, SIGTERM or SIGHUP interrupts `scalegate load`. */
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

/**
 * Raised when a load output breaks reports/schema/load-output.schema.json. The command
 * builds the output itself, so this is a bug in scalegate; the file is not written.
 */
export class LoadOutputValidationError extends Error {
  readonly code = 'LOAD_OUTPUT_INVALID';
  /** JSON Pointer of the first failing value, such as `/settings/seed`. */
  readonly instancePath: string;
  readonly issues: readonly ReportIssue[];

  constructor(issues: readonly ReportIssue[]) {
    super(`invalid load output ${describeFirstIssue(issues)}`);
    this.name = 'LoadOutputValidationError';
    this.instancePath = issues[0]?.instancePath ?? '';
    this.issues = issues;
  }
}

export function isLoadOutputValidationError(error: unknown): error is LoadOutputValidationError {
  return error instanceof LoadOutputValidationError;
}
