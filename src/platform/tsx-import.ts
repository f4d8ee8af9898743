/**
 * Node options that load tsx into a forked TypeScript child. The loader goes by
 * its resolved file URL, so the child starts from any working directory, not
 * only from the checkout whose node_modules contains tsx.
 */
export const TSX_EXEC_ARGV: readonly string[] = ['--import', import.meta.resolve('tsx')];
