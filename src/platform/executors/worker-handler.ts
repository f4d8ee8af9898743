/** The contract of a handler module loaded by worker processes. */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { JobHandler } from '../queue/index.js';

/** A module that worker processes import: it builds the job handler from a JSON config. */
export interface HandlerModule<T = unknown> {
  createHandler(config: unknown): JobHandler<T> | Promise<JobHandler<T>>;
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
export async function loadHandler<T>(specifier: string, config: unknown): Promise<JobHandler<T>> {
  const loaded: unknown = await import(handlerModuleUrl(specifier));
  const createHandler = (loaded as Partial<HandlerModule<T>>).createHandler;
  if (typeof createHandler !== 'function') {
    throw new HandlerModuleError(specifier);
  }
  return createHandler(config);
}
