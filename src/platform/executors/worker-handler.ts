/** The contract of a handler module loaded by worker processes. */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { JobHandler } from '../queue/index.js';

/**
 * A module that worker processes import: it builds the job handler from a JSON config.
 * It may export `closeHandler`, which the process awaits after its last job, and
 * `abortHandler`, which ends the running jobs when the pool sends `abortRunning`.
 */
export interface HandlerModule<T = unknown> {
  createHandler(config: unknown): JobHandler<T> | Promise<JobHandler<T>>;
  closeHandler?(): void | Promise<void>;
  abortHandler?(): void;
}

/** A loaded handler module: the handler and its optional hooks, as functions. */
export interface LoadedHandler<T> {
  handler: JobHandler<T>;
  close(): Promise<void>;
  abort(): void;
}

/** Raised when a handler module does not export `createHandler`. */
export class HandlerModuleError extends Error {
  readonly code = 'invalid_handler_module' as const;

  constructor(readonly specifier: string) {
    super(`handler module ${specifier} must export a function named createHandler`);
    this.name = 'HandlerModuleError';
  }
}

export function isHandlerModuleError(error: unknown): error is HandlerModuleError {
  return error instanceof Error && (error as { code?: unknown }).code === 'invalid_handler_module';
}

/** Turns an absolute path or a file: URL into an import specifier. */
export function handlerModuleUrl(specifier: string): string {
  return isAbsolute(specifier) ? pathToFileURL(specifier).href : new URL(specifier).href;
}

/** Imports a handler module and builds its handler. */
export async function loadHandler<T>(
  specifier: string,
  config: unknown,
): Promise<LoadedHandler<T>> {
  const loaded = (await import(handlerModuleUrl(specifier))) as Partial<HandlerModule<T>>;
  const { createHandler, closeHandler, abortHandler } = loaded;
  if (typeof createHandler !== 'function') {
    throw new HandlerModuleError(specifier);
  }
  const handler = await createHandler(config);
  return {
    handler,
    close: async () => {
      if (typeof closeHandler === 'function') await closeHandler();
    },
    abort: () => {
      if (typeof abortHandler === 'function') abortHandler();
    },
  };
}
