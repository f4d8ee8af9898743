import { isScalar, type LineCounter } from 'yaml';
import type { SourceLocation } from './policy-errors.js';

/** Returns the line and column, both counted from 1, of an offset in the YAML text. */
export function locationAt(lines: LineCounter, offset: number): SourceLocation {
  const position = lines.linePos(offset);
  return { line: position.line, column: position.col };
}

/** Returns the source offset where a YAML node starts, if it was parsed from text. */
export function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: readonly number[] } | null)?.range;
  return range?.[0];
}

/** Returns the text of a scalar map key, or undefined for a merge key or a collection key. */
export function keyText(key: unknown): string | undefined {
  return isScalar(key) && typeof key.value !== 'symbol' ? String(key.value) : undefined;
}

/**
 * With `merge: true`, yaml 2 parses a plain `<<` key to a scalar whose value is a symbol. A
 * quoted `"<<"` stays an ordinary string key.
 */
export function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<';
}

/** Escapes `~` and `/` in a JSON Pointer segment (RFC 6901). */
export function escapeSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Reverses {@link escapeSegment}. */
export function unescapeSegment(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}
