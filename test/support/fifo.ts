import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
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

/**
 * Creates a FIFO at `path` that serves `first` to the first reader and `second` to the next,
 * as a file edited between two reads would. Linux only: it runs `mkfifo`.
 */
export async function changingFifo(
  path: string,
  first: Buffer,
  second: Buffer,
): Promise<ChangingFifo> {
  await promisify(execFile)('mkfifo', [path]);
  let stopped = false;
  const served = (async (): Promise<ServedReads> => {
    const firstServed = await serveOnce(path, first, () => stopped);
    // The wait lets the first reader read to the end and close the FIFO, so the second
    // bytes go to a new reader. 200 ms is assumed enough, not measured.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const secondServed = await serveOnce(path, second, () => stopped);
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
 * Writes `bytes` to the FIFO at `path` once a reader has opened it, polling every 5 ms until
 * `stopped` returns true. Returns whether a reader took the bytes.
 */
async function serveOnce(path: string, bytes: Buffer, stopped: () => boolean): Promise<boolean> {
  while (!stopped()) {
    try {
      // A non-blocking open for writing fails with ENXIO until a reader has the FIFO open.
      const handle = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        await handle.write(bytes);
      } finally {
        await handle.close();
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return false;
}
