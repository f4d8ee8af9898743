/** Error codes of the fault proxy API; each maps to one HTTP status. */
export type FaultProxyErrorCode =
  | 'invalid_body'
  | 'invalid_path'
  | 'invalid_field'
  | 'proxy_not_found'
  | 'proxy_exists'
  | 'toxic_not_found'
  | 'toxic_exists'
  | 'listen_failed'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'browser_rejected'
  | 'body_too_large'
  | 'internal';

const STATUS_BY_CODE: Record<FaultProxyErrorCode, number> = {
  invalid_body: 400,
  invalid_path: 400,
  invalid_field: 400,
  proxy_not_found: 404,
  proxy_exists: 409,
  toxic_not_found: 404,
  toxic_exists: 409,
  listen_failed: 500,
  route_not_found: 404,
  method_not_allowed: 405,
  browser_rejected: 403,
  body_too_large: 413,
  internal: 500,
};

/**
 * A failed API request. `status` follows Toxiproxy 2.x (400 invalid input, 404 unknown
 * proxy or toxic, 409 duplicate name, 500 listen failure); `field` names the offending input.
 */
export class FaultProxyError extends Error {
  override readonly name = 'FaultProxyError';
  readonly code: FaultProxyErrorCode;
  readonly status: number;
  readonly field: string | undefined;

  constructor(code: FaultProxyErrorCode, message: string, field?: string) {
    super(message);
    this.code = code;
    this.status = STATUS_BY_CODE[code];
    this.field = field;
  }

  /** Returns the body Toxiproxy sends with an error status. */
  toJSON(): { error: string; status: number } {
    return { error: this.message, status: this.status };
  }
}

/** A request whose method the path does not serve. `allow` is its `Allow` header's value. */
export class MethodNotAllowedError extends FaultProxyError {
  readonly allow: string;

  constructor(method: string, path: string, allowed: readonly string[]) {
    const allow = allowed.join(', ');
    super('method_not_allowed', `method ${method} not allowed on ${path}: use ${allow}`);
    this.allow = allow;
  }
}

/** True when `value` is a {@link FaultProxyError}. */
export function isFaultProxyError(value: unknown): value is FaultProxyError {
  return value instanceof FaultProxyError;
}

/** Builds the 400 error for one invalid input field. */
export function invalidField(field: string, expected: string, received: unknown): FaultProxyError {
  const receivedText = JSON.stringify(received) ?? String(received);
  return new FaultProxyError(
    'invalid_field',
    `invalid field "${field}": expected ${expected}, got ${receivedText}`,
    field,
  );
}
