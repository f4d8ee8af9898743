import { Command } from 'commander';

/** Output and exit code of one in-process command run. */
export interface CommandRun {
  stdout: string;
  stderr: string;
  exitCode: typeof process.exitCode;
}

/**
 * Runs `scalegate <args>` in this process with the commands that `register` adds, and
 * returns what it wrote to stdout and stderr and the exit code it set. The streams and
 * the process's exit code are restored afterwards.
 */
export async function runInProcess(
  register: (program: Command) => void,
  args: string[],
): Promise<CommandRun> {
  const program = new Command('scalegate').exitOverride();
  register(program);
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const output = { stdout: '', stderr: '' };
  const savedExitCode = process.exitCode;
  const capture = (stream: 'stdout' | 'stderr') => (chunk: string | Uint8Array) => {
    output[stream] += String(chunk);
    return true;
  };
  process.stdout.write = capture('stdout') as typeof process.stdout.write;
  process.stderr.write = capture('stderr') as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'scalegate', ...args]);
    return { ...output, exitCode: process.exitCode };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    process.exitCode = savedExitCode;
  }
}
