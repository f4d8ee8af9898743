/** Raised when a drill spec is invalid; `field` is the path of the offending value, like `faults[1].atS`. */
export class DrillSpecError extends Error {
  readonly code = 'drill_spec_invalid';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`invalid drill spec: ${field === '' ? '(root)' : field} ${reason}`);
    this.name = 'DrillSpecError';
  }
}

export function isDrillSpecError(error: unknown): error is DrillSpecError {
  return error instanceof DrillSpecError;
}

/** Reason of the abort signal when an abort rule fires. */
export class DrillAbortRuleError extends Error {
  readonly code = 'drill_abort_rule';
  constructor(
    readonly rule: string,
    readonly value: number,
  ) {
    super(`abort rule ${rule} fired at value ${value}`);
    this.name = 'DrillAbortRuleError';
  }
}

export function isDrillAbortRuleError(error: unknown): error is DrillAbortRuleError {
  return error instanceof DrillAbortRuleError;
}

/** Reason of the abort signal when the process receives SIGINT, SIGTERM or SIGHUP. */
export class DrillInterruptedError extends Error {
  readonly code = 'drill_interrupted';
  constructor(readonly signalName: string) {
    super(`drill interrupted by ${signalName}`);
    this.name = 'DrillInterruptedError';
  }
}

export function isDrillInterruptedError(error: unknown): error is DrillInterruptedError {
  return error instanceof DrillInterruptedError;
}

/** Raised by a fault driver when applying or removing one fault step fails. */
export class FaultStepError extends Error {
  readonly code = 'fault_step_failed';
  constructor(
    readonly stepId: string,
    readonly action: 'apply' | 'remove',
    options?: ErrorOptions,
  ) {
    super(`could not ${action} fault step ${stepId}`, options);
    this.name = 'FaultStepError';
  }
}

export function isFaultStepError(error: unknown): error is FaultStepError {
  return error instanceof FaultStepError;
}
