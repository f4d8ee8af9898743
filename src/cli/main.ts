import { exitCodeForUncaught } from './command-errors.js';
import { buildProgram } from './program.js';

// A reader that closes the pipe early, as `| head` does, makes writes fail with EPIPE. Ignoring
// it lets the command finish its cleanup and exit with its own code, not 1.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeForUncaught(error);
}
