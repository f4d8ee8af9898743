import { isUtf8 } from 'node:buffer';
import { PolicyValidationError, type SourceLocation } from './policy-errors.js';

/**
 * Decodes the bytes of a policy file as UTF-8 text.
 * @throws PolicyValidationError at the first byte that is not UTF-8 or is a NUL byte, which
 * YAML does not allow. Both mark a binary file, a compressed one or UTF-16 text, which would
 * otherwise load as one long string and fail the schema with an unreadable value.
 */
export function decodePolicyText(bytes: Buffer, source: string): string {
  const text = bytes.toString('utf8');
  const nulOffset = text.indexOf('\u0000');
  // Invalid bytes decode to U+FFFD, so the first one marks where the first invalid byte was.
  const invalidOffset = isUtf8(bytes) ? -1 : text.indexOf('\uFFFD');
  const offsets = [nulOffset, invalidOffset].filter((offset) => offset >= 0);
  if (offsets.length === 0) {
    return text;
  }
  const offset = Math.min(...offsets);
  const found =
    offset === nulOffset
      ? 'the file is not text: it contains a NUL byte'
      : 'the file is not UTF-8 text: it contains a byte sequence that is not UTF-8';
  const message = `${found}, as a binary, compressed or UTF-16 file does; save the policy as UTF-8 YAML, as policies/default.yaml is`;
  const location = locationOf(text, offset);
  throw new PolicyValidationError(source, [{ path: '', message, location }]);
}

function locationOf(text: string, offset: number): SourceLocation {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
