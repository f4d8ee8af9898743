import { type Logger, pino } from 'pino';

import { syncLogDestination } from '../log-destination.js';

/**
 * Creates a command's logger, which writes JSON lines to `fd` synchronously. An
 * asynchronous pino destination flushes at exit, and a flush into a closed pipe
 * throws EPIPE out of `process.exit`, so a shutdown after the log reader left
 * ended with the wrong code. A synchronous one drops every record after the
 * first EPIPE, or the first EIO of a terminal that hung up, instead.
 */
export function commandLogger(name: string, fd: 1 | 2, level = 'info'): Logger {
  return pino({ name, level }, syncLogDestination(fd));
}
