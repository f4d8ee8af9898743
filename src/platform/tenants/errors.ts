import type { SourceLocation } from '../router/policy-errors.js';
import { describeValue } from './config-fields.js';

/** Field name of a problem with the whole file, such as a YAML syntax error or a missing file. */
export const FILE_FIELD = '(file)';

/** Position and tenant of a tenants file problem, beyond its file and field. */
export interface TenantProblemPlace {
  /** Line and column of the field in the file, both counted from 1. */
  location?: SourceLocation;
  /** Id of the tenant entry that contains the field, when the entry has a valid one. */
  tenantId?: string;
  cause?: unknown;
}

/** Raised when a tenants or demo-keys file is missing, unparsable or invalid. */
export class TenantConfigError extends Error {
  readonly code = 'invalid_tenant_config';
  override readonly name = 'TenantConfigError';

  /** The problem without the file and field, such as `duplicate id tenant-a`. */
  readonly detail: string;
  readonly location: SourceLocation | undefined;
  readonly tenantId: string | undefined;
  #problems: readonly TenantConfigError[] = [this];

  constructor(
    readonly file: string,
    readonly field: string,
    detail: string,
    place: TenantProblemPlace = {},
  ) {
    super('', place.cause === undefined ? undefined : { cause: place.cause });
    this.detail = detail;
    this.location = place.location;
    this.tenantId = place.tenantId;
    this.message = this.problemLine();
  }

  /** Every problem this error reports: itself, or those `combine` joined. */
  get problems(): readonly TenantConfigError[] {
    return this.#problems;
  }

  /**
   * Formats this problem as one line, such as
   * `fixtures/tenants.yaml:12:5 tenants[1].maxInFlight (id tenant-beta): expected ...`. A
   * problem without a location, such as an unreadable file, prints `FILE: FIELD: detail`.
   */
  problemLine(): string {
    if (this.location === undefined) {
      return `${this.file}: ${this.field}: ${this.detail}`;
    }
    const { line, column } = this.location;
    const tenant = this.tenantId === undefined ? '' : ` (id ${this.tenantId})`;
    const field = this.field === FILE_FIELD ? '' : ` ${this.field}${tenant}`;
    return `${this.file}:${line}:${column}${field}: ${this.detail}`;
  }

  /**
   * Lists every problem: a heading with the file and the count, then one indented
   * {@link problemLine} per problem.
   */
  problemList(): string[] {
    const count = this.#problems.length === 1 ? '1 problem' : `${this.#problems.length} problems`;
    const lines = this.#problems.map((problem) => `  ${problem.problemLine()}`);
    return [`invalid tenants file ${this.file} (${count}):`, ...lines];
  }

  /**
   * Combines the problems of one file into one error: with several, a heading and then each
   * problem on its own indented line. Its `field` and `location` are the first problem's.
   */
  static combine(file: string, errors: readonly TenantConfigError[]): TenantConfigError {
    const [first] = errors;
    if (first === undefined) throw new RangeError('no tenant config problem to combine');
    if (errors.length === 1) return first;
    const { location, tenantId } = first;
    const combined = new TenantConfigError(file, first.field, first.detail, { location, tenantId });
    combined.#problems = errors;
    combined.message = combined.problemList().join('\n');
    return combined;
  }

  /**
   * Builds the error for a field whose value is missing or has the wrong type or range.
   * `hint` follows the received value, such as `; write 25 without quotes`.
   */
  static invalidField(
    file: string,
    field: string,
    expected: string,
    received: unknown,
    hint = '',
    place: TenantProblemPlace = {},
  ) {
    const detail =
      received === undefined
        ? `missing; set it to ${expected}`
        : `expected ${expected}, received ${describeValue(received)}${hint}`;
    return new TenantConfigError(file, field, detail, place);
  }
}

export function isTenantConfigError(error: unknown): error is TenantConfigError {
  return error instanceof TenantConfigError;
}
