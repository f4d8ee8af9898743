import { createHash } from 'node:crypto';

/** A file the platform read at start. */
export interface LoadedFile {
  /** As given in the options, or the default relative to the working folder. */
  path: string;
  /** sha256 hex digest of the bytes the platform parsed. */
  sha256: string;
}

/** The tenants file and the price table a platform read at start. */
export interface LoadedFiles {
  tenants: LoadedFile;
  prices: LoadedFile;
}

/** Returns the sha256 hex digest of a file's bytes, as reports and load outputs record it. */
export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Returns the record of a file read from `path` as `bytes`. */
export function loadedFile(path: string, bytes: Buffer): LoadedFile {
  return { path, sha256: sha256Hex(bytes) };
}
