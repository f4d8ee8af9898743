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

  /**
   * Records an issue unless `value` is a number from 0 to 1. A value above 1 and up to 100 is
   * most likely a percentage, so its issue gets the fraction to write instead.
   */
  fraction(path: string, value: unknown): value is number {
    const ok = typeof value === 'number' && value >= 0 && value <= 1;
    if (ok) return true;
    this.add(path, 'a number from 0 to 1', value);
    const issue = this.items.at(-1);
    if (issue !== undefined && typeof value === 'number' && value > 1 && value <= 100) {
      issue.hint = `write ${Number((value / 100).toPrecision(12))} for ${value}%`;
    }
    return false;
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

  /**
   * Records an issue for each field of `value` missing from `known`, naming its path, its
   * value and the known fields, with the closest known name when one is near. A misspelled
   * optional field would otherwise be ignored, and an objective with it silently dropped.
   */
  knownFields(path: string, value: Record<string, unknown>, known: readonly string[]): void {
    for (const [field, fieldValue] of Object.entries(value)) {
      if (known.includes(field)) continue;
      const nearest = nearestName(field, known);
      this.items.push({
        path: `${path}.${field}`,
        expected: `one of the fields ${known.join(', ')}`,
        received: `unknown field "${field}" set to ${describeValue(fieldValue)}`,
        ...(nearest === undefined ? {} : { hint: `did you mean "${nearest}"?` }),
      });
    }
  }

  oneOf(path: string, value: unknown, allowed: readonly string[]): boolean {
    const ok = typeof value === 'string' && allowed.includes(value);
    if (!ok) this.add(path, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
    return ok;
  }
}

/**
 * Returns the name in `known` closest to `name` by edit distance, ignoring case. A name
 * further than a third of `name`'s length (at least 1) is no match, so then none is returned.
 */
function nearestName(name: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Returns the Levenshtein distance: the fewest one-character inserts, deletes and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
