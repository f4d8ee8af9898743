import { describeFirstIssue } from './schema-check.js';

/** Raised when a report breaks reports/schema/report.schema.json; nothing was written. */
export class ReportValidationError extends Error {
  readonly code = 'report_invalid';
  /** JSON Pointer of the first failing value, such as `/topologies/0/successRate`. */
  readonly instancePath: string;
  /** JSON Schema keyword that failed, such as `maximum` or `required`. */
  readonly keyword: string;
  readonly issues: readonly ReportIssue[];

  constructor(issues: readonly ReportIssue[]) {
    const first = issues[0] ?? { instancePath: '', keyword: 'unknown', message: 'invalid' };
    super(`invalid report ${describeFirstIssue(issues)}`);
    this.name = 'ReportValidationError';
    this.instancePath = first.instancePath;
    this.keyword = first.keyword;
    this.issues = issues;
  }
}

export interface ReportIssue {
  instancePath: string;
  keyword: string;
  message: string;
  /**
   * The failing value as JSON, cut to 80 characters, or `property "<name>"` for a property
   * the schema does not allow; absent for a missing property.
   */
  value?: string;
  /** Expected form of the value: the schema's description of the field, or the rule. */
  expected?: string;
}

export function isReportValidationError(error: unknown): error is ReportValidationError {
  return error instanceof ReportValidationError;
}
