import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes `text` to a new temporary file beside `path`, then renames it over `path`. A symbolic
 * link at `path` is replaced, not followed, and a reader never sees a half-written file.
 */
export async function replaceFile(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  // The `wx` flag fails on any existing path, a link included, so the write cannot follow one.
  await writeFile(temp, text, { flag: 'wx' });
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
