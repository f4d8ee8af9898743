import { fileURLToPath } from 'node:url';

/**
 * Absolute path of a file shipped with scalegate, given relative to the package
 * root, such as `fixtures/prices.yaml`. Default inputs resolve through it, so the
 * `scalegate` command finds them from any working directory.
 */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}
