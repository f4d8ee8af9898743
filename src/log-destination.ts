import { pino } from 'pino';

/**
 * Error codes of a write whose reader is gone: EPIPE once the reader of a pipe closed it, and
 * EIO once the terminal hung up, as when the terminal or SSH session that runs the process
 * closed.
 */
const READER_GONE_CODES = new Set(['EPIPE', 'EIO']);

/** Tells whether `error` is a write error that {@link READER_GONE_CODES} lists. */
export function isReaderGoneError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code !== undefined && READER_GONE_CODES.has(code);
}

/**
 * Creates a pino destination that writes to `fd` synchronously and drops every record after
 * the first write whose reader is gone. pino 10 drops them itself after EPIPE only. Without this,
 * a record written after a terminal hang-up raises EIO as an unhandled 'error' event, which
 * ends the process before it drains.
 */
export function syncLogDestination(fd: number): ReturnType<typeof pino.destination> {
  const destination = pino.destination({ dest: fd, sync: true });
  destination.on('error', (error: unknown) => {
    if (!isReaderGoneError(error)) throw error;
    destination.write = () => true;
    destination.flushSync = () => undefined;
  });
  return destination;
}
