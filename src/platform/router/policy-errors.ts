/** Line and column of a problem in the policy's YAML text, both counted from 1. */
export interface SourceLocation {
  line: number;
  column: number;
}

/** One problem in a policy, located by JSON Pointer and, for a policy read from YAML, by line. */
export interface PolicyProblem {
  /** JSON Pointer into the policy document, such as `/routes/chat/candidates/1/model`. */
  path: string;
  message: string;
  /**
   * Position of the value in the YAML text, or line 1 for a problem with the whole file, such
   * as an empty one. Absent for a policy given as a parsed object.
   */
  location?: SourceLocation;
}

/**
 * Formats a problem as one line: `policies/x.yaml:12:5 /routes/chat/deadlineMs: message` when
 * it has a location, `/routes/chat/deadlineMs: message` when it has none. A problem with a
 * location and an empty path, such as a YAML syntax error, prints no path.
 */
export function formatPolicyProblem(source: string, problem: PolicyProblem): string {
  if (problem.location === undefined) {
    return `${problem.path || '/'}: ${problem.message}`;
  }
  const where = `${source}:${problem.location.line}:${problem.location.column}`;
  return problem.path === ''
    ? `${where}: ${problem.message}`
    : `${where} ${problem.path}: ${problem.message}`;
}

/** A policy that fails schema or semantic validation; `problems` lists every one found. */
export class PolicyValidationError extends Error {
  readonly code = 'policy_invalid';
  /** The file path, or the name given to `parsePolicy`. */
  readonly source: string;
  readonly problems: readonly PolicyProblem[];

  constructor(source: string, problems: readonly PolicyProblem[]) {
    const lines = problems.map((problem) => `  ${formatPolicyProblem(source, problem)}`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid route policy ${source} (${count}):\n${lines.join('\n')}`);
    this.name = 'PolicyValidationError';
    this.source = source;
    this.problems = problems;
  }
}

/** Type guard for {@link PolicyValidationError}. */
export function isPolicyValidationError(value: unknown): value is PolicyValidationError {
  return value instanceof PolicyValidationError;
}
