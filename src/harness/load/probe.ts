import type { Dispatcher } from 'undici';
import { TargetUnreachableError } from './errors.js';

/**
 * Sends `GET /healthz` and resolves when the target returns a 2xx status.
 * @throws TargetUnreachableError naming the probed URL on a transport error, a timeout or a non-2xx status.
 */
export async function probeTarget(
  dispatcher: Dispatcher,
  target: string,
  timeoutMs: number,
): Promise<void> {
  const url = new URL('/healthz', target).toString();
  let statusCode: number;
  try {
    const response = await dispatcher.request({
      method: 'GET',
      path: '/healthz',
      signal: AbortSignal.timeout(timeoutMs),
    });
    statusCode = response.statusCode;
    await response.body.dump();
  } catch (error) {
    throw new TargetUnreachableError(url, describeTransportError(error, timeoutMs));
  }
  if (statusCode < 200 || statusCode > 299) {
    throw new TargetUnreachableError(url, `GET /healthz returned HTTP ${statusCode}`);
  }
}

function describeTransportError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `GET /healthz timed out after ${timeoutMs} ms`;
  }
  const code = transportErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : `${code} (${message})`;
}

/** Error code of a socket or undici error, such as `ECONNREFUSED` or `UND_ERR_SOCKET`. */
export function transportErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined ? undefined : transportErrorCode(cause);
}
