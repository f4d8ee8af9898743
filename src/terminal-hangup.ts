import { closeSync } from 'node:fs';
import { isatty } from 'node:tty';

/** File descriptors of stdin, stdout and stderr. */
const STDIO_FDS = [0, 1, 2] as const;

/**
 * Makes the process close, as it exits, each stdio descriptor that was a terminal when this
 * function ran and no longer is one, as after the terminal or SSH session closed. At exit
 * Node.js restores the terminal settings of each stdio descriptor that was a terminal at its
 * start. Node.js 20.20.2 aborts when that fails, as it does with EIO on a terminal that hung
 * up, so the process ends by SIGABRT, or by SIGSEGV as `scalegate platform` did, in place of
 * its exit code. Node.js skips a descriptor that is closed by then.
 */
export function closeHungUpTerminalsAtExit(): void {
  const terminals = STDIO_FDS.filter((fd) => isatty(fd));
  if (terminals.length === 0) return;
  process.once('exit', () => {
    for (const fd of terminals) {
      // isatty is false once the terminal hung up, because its ioctl then fails with EIO.
      if (!isatty(fd)) closeUnlessClosed(fd);
    }
  });
}

/** Closes `fd`, or does nothing when the process has closed it already. */
function closeUnlessClosed(fd: number): void {
  try {
    closeSync(fd);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EBADF') throw error;
  }
}
