/** Reason an input file of `scalegate compare` cannot be used. */
export type CompareInputProblem =
  | 'not_found'
  | 'unreadable'
  | 'not_json'
  | 'unknown_format'
  | 'no_schema_version'
  | 'unsupported_schema_version'
  | 'invalid'
  | 'several_topologies';

/** Raised when an input file of `scalegate compare` cannot be used; the message names the file and the fix. */
export class CompareInputError extends Error {
  readonly code = 'COMPARE_INPUT_INVALID';

  constructor(
    readonly file: string,
    readonly problem: CompareInputProblem,
    detail: string,
    fix: string,
  ) {
    super(`${file}: ${detail}; ${fix}`);
    this.name = 'CompareInputError';
  }
}

export function isCompareInputError(error: unknown): error is CompareInputError {
  return error instanceof CompareInputError;
}
