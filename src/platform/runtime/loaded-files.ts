import { createHash } from 'node:crypto';

/** A file the platform read at start. */
export interface LoadedFile {
  /** As given in the options, or the default relative to the working folder. */
  path: string;
  /** sha256 hex digest of the bytes the platform parsed. */
  sha256: string;
}

/** The tenants file, the price table and the route policy a platform read at start. */
export interface LoadedFiles {
  tenants: LoadedFile;
  prices: LoadedFile;
  policy: LoadedFile;
}

/** Returns the sha256 hex digest of a file's bytes, as reports and load outputs record it. */
export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Returns the record of a file read from `path` as `bytes`. */
export function loadedFile(path: string, bytes: Buffer): LoadedFile {
  return { path, sha256: sha256Hex(bytes) };
}

/** Raised when a file the platform parsed at start differs from the one read before it. */
export class ChangedLoadedFileError extends Error {
  readonly code = 'LOADED_FILE_CHANGED';

  constructor(
    /** `tenants file`, `price table` or `route policy`. */
    readonly kind: string,
    readonly file: LoadedFile,
    readonly recordedSha256: string,
  ) {
    super(
      `${kind} ${file.path} changed while the platform started: it was checked and recorded ` +
        `with sha256 ${recordedSha256.slice(0, 12)}, but the platform loaded sha256 ` +
        `${file.sha256.slice(0, 12)}; leave the file unchanged during the run and run it again`,
    );
    this.name = 'ChangedLoadedFileError';
  }
}

export function isChangedLoadedFileError(error: unknown): error is ChangedLoadedFileError {
  return error instanceof ChangedLoadedFileError;
}

/**
 * Checks that the platform parsed the bytes whose sha256 the caller recorded before starting
 * it, so a record never names other content than the platform ran with.
 * @throws ChangedLoadedFileError naming the tenants file, then the price table, then the
 *   route policy, when its hash differs.
 */
export function checkLoadedFiles(
  loaded: LoadedFiles,
  recorded: { tenantsSha256: string; pricesSha256: string; policySha256: string },
): void {
  if (loaded.tenants.sha256 !== recorded.tenantsSha256) {
    throw new ChangedLoadedFileError('tenants file', loaded.tenants, recorded.tenantsSha256);
  }
  if (loaded.prices.sha256 !== recorded.pricesSha256) {
    throw new ChangedLoadedFileError('price table', loaded.prices, recorded.pricesSha256);
  }
  if (loaded.policy.sha256 !== recorded.policySha256) {
    throw new ChangedLoadedFileError('route policy', loaded.policy, recorded.policySha256);
  }
}
