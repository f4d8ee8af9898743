import { describeValue, type ScenarioIssue } from './errors.js';

/** Collects field problems while a validator walks a spec. */
export class IssueList {
  readonly items: ScenarioIssue[] = [];

  add(path: string, expected: string, value: unknown): void {
    this.items.push({ path, expected, received: describeValue(value) });
  }

  /** Records an issue unless `value` is a finite number > 0; returns whether it is one. */
  positive(path: string, value: unknown): value is number {
    const ok = typeof value === 'number' && Number.isFinite(value) && value > 0;
    if (!ok) this.add(path, 'a positive number', value);
    return ok;
  }

  nonNegative(path: string, value: unknown): value is number {
    const ok = typeof value === 'number' && Number.isFinite(value) && value >= 0;
    if (!ok) this.add(path, 'a number >= 0', value);
    return ok;
  }

  positiveInteger(path: string, value: unknown): value is number {
    const ok = typeof value === 'number' && Number.isInteger(value) && value > 0;
    if (!ok) this.add(path, 'a positive integer', value);
    return ok;
  }

  fraction(path: string, value: unknown): value is number {
    const ok = typeof value === 'number' && value >= 0 && value <= 1;
    if (!ok) this.add(path, 'a number from 0 to 1', value);
    return ok;
  }

  nonEmptyString(path: string, value: unknown): value is string {
    const ok = typeof value === 'string' && value.length > 0;
    if (!ok) this.add(path, 'a non-empty string', value);
    return ok;
  }

  record(path: string, value: unknown): value is Record<string, unknown> {
    const ok = typeof value === 'object' && value !== null && !Array.isArray(value);
    if (!ok) this.add(path, 'an object', value);
    return ok;
  }

  nonEmptyArray(path: string, value: unknown): value is unknown[] {
    const ok = Array.isArray(value) && value.length > 0;
    if (!ok) this.add(path, 'a non-empty array', value);
    return ok;
  }

  oneOf(path: string, value: unknown, allowed: readonly string[]): boolean {
    const ok = typeof value === 'string' && allowed.includes(value);
    if (!ok) this.add(path, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
    return ok;
  }
}
