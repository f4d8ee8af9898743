import { isUtf8 } from 'node:buffer';

import type { FastifyInstance } from 'fastify';

import { GatewayError } from './gateway-error.js';
import { findTooDeep, MAX_JSON_DEPTH } from './json-depth.js';

/**
 * Object keys a body may not contain at any depth, because a later merge into a plain
 * object could turn them into prototype pollution. Fastify's default parser rejects
 * `__proto__`, and a `constructor` with a `prototype`, in a message that names neither.
 */
const FORBIDDEN_KEYS = ['__proto__', 'constructor'];

/** The fix that every malformed-JSON message ends with. */
export const JSON_FIX = 'send the task as one valid JSON object';

/**
 * Replaces Fastify's JSON body parser with one whose errors name what is wrong:
 * a byte that is not UTF-8, the parser's syntax error, nesting past MAX_JSON_DEPTH,
 * or which forbidden key appeared and where.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(decodeJsonBody(body as Buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/**
 * Decodes a JSON body as UTF-8, the encoding JSON requires (RFC 8259, section 8.1), and
 * drops a leading byte order mark, which that section lets a parser ignore.
 * @throws GatewayError 400 `invalid_json` naming the first byte that is not UTF-8. A plain
 *   decode would replace it with U+FFFD, so the task would run on other text than was sent.
 */
export function decodeJsonBody(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (!isUtf8(bytes)) {
    const offset = firstInvalidByte(bytes, text);
    const value = bytes[offset] ?? 0;
    const hex = value.toString(16).toUpperCase().padStart(2, '0');
    const message = `malformed JSON body: byte ${offset} (0x${hex}) is not UTF-8; encode the body as UTF-8, as JSON requires, and ${JSON_FIX}`;
    throw new GatewayError(400, 'invalid_json', message);
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/**
 * Returns the offset of the first byte that is not UTF-8 in `bytes`, whose decoded text is
 * `text`. The decoder replaces each invalid sequence with U+FFFD and decodes the bytes
 * before it unchanged, so the first U+FFFD whose bytes are not EF BF BD marks it.
 */
function firstInvalidByte(bytes: Buffer, text: string): number {
  for (let index = text.indexOf('\uFFFD'); index >= 0; index = text.indexOf('\uFFFD', index + 1)) {
    const offset = Buffer.byteLength(text.slice(0, index));
    const encoded =
      bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd;
    if (!encoded) return offset;
  }
  return 0;
}

/**
 * Parses a request body as JSON.
 * @throws GatewayError 400 `invalid_json` for an empty or malformed body, and
 *   `invalid_request` for arrays and objects nested more than MAX_JSON_DEPTH levels
 *   deep, which later recursive steps such as JSON.stringify cannot handle, or naming
 *   the key and its path for a forbidden key.
 */
export function parseJsonBody(body: string): unknown {
  if (body.trim().length === 0) {
    throw new GatewayError(
      400,
      'invalid_json',
      'malformed JSON body: the body is empty; send a JSON object',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new GatewayError(400, 'invalid_json', `malformed JSON body: ${reason}; ${JSON_FIX}`);
  }
  const tooDeep = findTooDeep(parsed, MAX_JSON_DEPTH);
  if (tooDeep !== undefined) throw tooDeepError(tooDeep.field);
  const found = findForbiddenKey(parsed);
  if (found !== undefined) {
    const where = found.parent === '' ? 'the request body' : found.parent;
    const field = found.parent === '' ? found.key : `${found.parent}.${found.key}`;
    const message = `invalid key ${found.key} in ${where}: the keys ${FORBIDDEN_KEYS.join(' and ')} are not allowed; remove it`;
    throw new GatewayError(400, 'invalid_request', message, { field });
  }
  return parsed;
}

function tooDeepError(field: string | undefined): GatewayError {
  const where = field === undefined ? 'invalid request body' : `invalid field ${field}`;
  const message = `${where}: arrays and objects nested more than ${MAX_JSON_DEPTH} levels deep; the gateway accepts at most ${MAX_JSON_DEPTH} levels, and a valid task body needs 3 (the body, messages and each message), so flatten the value`;
  return new GatewayError(400, 'invalid_request', message, field === undefined ? {} : { field });
}

/**
 * Returns the first forbidden key and the path of the object that has it, such as
 * `messages[0]`, or `''` for the top level. The walk keeps its own stack, so a
 * deeply nested body cannot overflow the call stack.
 */
function findForbiddenKey(root: unknown): { key: string; parent: string } | undefined {
  const stack: { value: unknown; path: string }[] = [{ value: root, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (Array.isArray(value)) {
      value.forEach((element, index) => {
        stack.push({ value: element, path: `${path}[${index}]` });
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (FORBIDDEN_KEYS.includes(key)) return { key, parent: path };
        stack.push({ value: child, path: path === '' ? key : `${path}.${key}` });
      }
    }
  }
  return undefined;
}
