/** Linux /proc readers for tests that start, kill and watch child processes. */
import { readFile } from 'node:fs/promises';

/**
 * Returns the pids of the children of process `parentPid`, or only those whose command
 * line contains `text`.
 */
export async function childPids(parentPid: number, text?: string): Promise<number[]> {
  const listed = await readFile(`/proc/${parentPid}/task/${parentPid}/children`, 'utf8');
  const pids: number[] = [];
  for (const pid of listed.trim().split(/\s+/).filter(Boolean).map(Number)) {
    // A child that exits after the listing has no cmdline left to read.
    const cmdline =
      text === undefined ? '' : await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (text === undefined || cmdline.includes(text)) pids.push(pid);
  }
  return pids;
}

/** Returns whether process `pid` still runs; a zombie waiting to be reaped has exited. */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The state letter follows the parenthesised command name.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
