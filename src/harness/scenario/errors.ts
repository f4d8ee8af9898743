/** One problem found in a scenario spec, located by its field path. */
export interface ScenarioIssue {
  /** Field path such as `scenario.arrival.stages[1].durationSec`. */
  path: string;
  expected: string;
  received: string;
  /** Suggested fix, such as `did you mean "successRate"?`, appended to the message. */
  hint?: string;
}

/** Raised when a scenario spec fails validation; the message names every invalid field. */
export class ScenarioValidationError extends Error {
  readonly code = 'SCENARIO_INVALID';
  readonly issues: readonly ScenarioIssue[];

  constructor(issues: readonly ScenarioIssue[]) {
    super(issues.map(formatIssue).join('; '));
    this.name = 'ScenarioValidationError';
    this.issues = issues;
  }
}

export function isScenarioValidationError(error: unknown): error is ScenarioValidationError {
  return error instanceof ScenarioValidationError;
}

/** Raised when no scenario of the requested name is registered. */
export class ScenarioNotFoundError extends Error {
  readonly code = 'SCENARIO_NOT_FOUND';

  constructor(
    readonly scenarioName: string,
    readonly known: readonly string[],
  ) {
    super(`scenario "${scenarioName}" not found; known scenarios: ${known.join(', ')}`);
    this.name = 'ScenarioNotFoundError';
  }
}

export function isScenarioNotFoundError(error: unknown): error is ScenarioNotFoundError {
  return error instanceof ScenarioNotFoundError;
}

/** Formats an issue as `path: expected X, got Y`, followed by `; hint` when it has one. */
export function formatIssue(issue: ScenarioIssue): string {
  const message = `${issue.path}: expected ${issue.expected}, got ${issue.received}`;
  return issue.hint === undefined ? message : `${message}; ${issue.hint}`;
}

/** Renders a received value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return String(value);
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}
