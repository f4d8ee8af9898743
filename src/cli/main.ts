import { isReaderGoneError } from '../log-destination.js';
import { exitCodeForUncaught } from './command-errors.js';
import { buildProgram } from './program.js';

// A reader that closes the pipe early, as `| head` does, makes writes fail with EPIPE, and a
// terminal that hung up makes them fail with EIO. Ignoring both lets the command finish its
// cleanup and exit with its own code, not 1.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (!isReaderGoneError(error)) throw error;
  });
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeForUncaught(error);
}
