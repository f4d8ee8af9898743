import { isAbsolute, resolve } from 'node:path';

/** A system error from reading a file, such as ENOENT or EISDIR. */
export type FileSystemError = NodeJS.ErrnoException & { code: string };

export function isFileSystemError(error: unknown): error is FileSystemError {
  const candidate = error as NodeJS.ErrnoException | undefined;
  return (
    candidate instanceof Error &&
    typeof candidate.code === 'string' &&
    typeof candidate.syscall === 'string'
  );
}

/** Wording that {@link unreadableMessage} uses for one kind of file. */
export interface FileKind {
  /** Name of the file in messages, such as `policy file`. */
  noun: string;
  /** Advice for a folder given in place of the file, such as `pass the policy files in it, such as dir/*.yaml`. */
  folderFix: (folder: string) => string;
}

/** Describes why `file` cannot be read, naming the path and what to pass instead. */
export function unreadableMessage(file: string, error: FileSystemError, kind: FileKind): string {
  if (error.code === 'ENOENT') {
    // A relative path starts at the working directory, so the message also gives the absolute one.
    const location = isAbsolute(file) ? '' : ` (looked for ${resolve(file)})`;
    return `${kind.noun} not found: ${file}${location}; pass the path of an existing ${kind.noun}`;
  }
  if (error.code === 'EISDIR') {
    return `${file} is a folder; ${kind.folderFix(file)}`;
  }
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    const fix = 'make it readable or pass another file';
    return `cannot read ${file} (${error.code}): permission denied; ${fix}`;
  }
  return `cannot read ${file}: ${error.message}; pass a readable ${kind.noun}`;
}
