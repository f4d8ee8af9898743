/** One problem in a policy, located by JSON Pointer. */
export interface PolicyProblem {
  /** JSON Pointer into the policy document, such as `/routes/chat/candidates/1/model`. */
  path: string;
  message: string;
}

/** A policy that fails schema or semantic validation; `problems` lists every one found. */
export class PolicyValidationError extends Error {
  readonly code = 'policy_invalid';
  readonly problems: readonly PolicyProblem[];

  constructor(source: string, problems: readonly PolicyProblem[]) {
    const lines = problems.map((problem) => `  ${problem.path || '/'}: ${problem.message}`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid route policy ${source} (${count}):\n${lines.join('\n')}`);
    this.name = 'PolicyValidationError';
    this.problems = problems;
  }
}

/** Type guard for {@link PolicyValidationError}. */
export function isPolicyValidationError(value: unknown): value is PolicyValidationError {
  return value instanceof PolicyValidationError;
}
