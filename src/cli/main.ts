import { exitCodeForUncaught } from './command-errors.js';
import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeForUncaught(error);
}
