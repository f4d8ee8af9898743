import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { type FileHandle, open, readdir, readlink, realpath } from 'node:fs/promises';
import { promisify } from 'node:util';

/** Whether each of two readers of a FIFO got its bytes. */
export interface ServedReads {
  first: boolean;
  second: boolean;
}

/** A FIFO that gives its first reader one content and a later reader another. */
export interface ChangingFifo {
  /** Stops waiting for readers and resolves with the reads served. */
  stop(): Promise<ServedReads>;
}

/** Interval of the polls for a reader of the FIFO, in ms. */
const POLL_MS = 5;

/**
 * Creates a FIFO at `path` that serves `first` to the first reader and `second` to the next,
 * as a file edited between two reads would. Both readers must be in this process, because
 * the helper watches `/proc/self/fd` to see the first reader close the FIFO before it serves
 * the second. Linux only: it runs `mkfifo` and reads `/proc`.
 */
export async function changingFifo(
  path: string,
  first: Buffer,
  second: Buffer,
): Promise<ChangingFifo> {
  await promisify(execFile)('mkfifo', [path]);
  const fifo = await realpath(path);
  let stopped = false;
  const isStopped = (): boolean => stopped;
  const served = (async (): Promise<ServedReads> => {
    const firstServed = await serveOnce(fifo, first, isStopped);
    const secondServed = await serveOnce(fifo, second, isStopped);
    return { first: firstServed, second: secondServed };
  })();
  return {
    stop: () => {
      stopped = true;
      return served;
    },
  };
}

/**
 * Writes `bytes` to the FIFO at `fifo` once a reader has opened it, and returns once that
 * reader has closed it, polling until `stopped` returns true. Returns whether a reader took
 * the bytes.
 */
async function serveOnce(fifo: string, bytes: Buffer, stopped: () => boolean): Promise<boolean> {
  while (!stopped()) {
    let handle: FileHandle;
    try {
      // A non-blocking open for writing fails with ENXIO until a reader has the FIFO open.
      handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
      await sleep(POLL_MS);
      continue;
    }
    try {
      await handle.write(bytes);
      // While this write end is open the reader gets no end of file, so its descriptor stays
      // open from the moment its open returns until this poll finds it.
      await pollUntil(async () => (await descriptorsOf(fifo, handle.fd)) > 0, stopped);
    } finally {
      await handle.close();
    }
    // The reader now reads to its end of file and closes the FIFO. The open of a later reader
    // blocks until the next write end opens, so no other descriptor shows meanwhile.
    await pollUntil(async () => (await descriptorsOf(fifo)) === 0, stopped);
    return true;
  }
  return false;
}

/** Polls `done` every POLL_MS until it returns true or `stopped` does. */
async function pollUntil(done: () => Promise<boolean>, stopped: () => boolean): Promise<void> {
  while (!(await done()) && !stopped()) {
    await sleep(POLL_MS);
  }
}

/** Returns how many of this process's file descriptors, other than `except`, refer to `fifo`. */
async function descriptorsOf(fifo: string, except?: number): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    if (Number(fd) === except) continue;
    // A descriptor may close between the listing and its readlink.
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => undefined);
    if (target === fifo) count += 1;
  }
  return count;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
