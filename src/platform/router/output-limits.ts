import { maxOutputTokensOf, type ProviderCatalog } from './catalog.js';
import type { Candidate } from './policy-types.js';

/**
 * Returns the largest `max_tokens` the candidate's model accepts, or 0 when the catalog
 * lacks the model, so that such a candidate serves no task.
 */
export function outputLimitOf(catalog: ProviderCatalog, candidate: Candidate): number {
  return maxOutputTokensOf(catalog, candidate.provider, candidate.model) ?? 0;
}

/**
 * Keeps, in each group, the candidates whose model accepts `maxOutputTokens`. A provider
 * rejects a larger `max_tokens` with 400, so a task never calls the others.
 */
export function servingGroups(
  groups: readonly (readonly Candidate[])[],
  limitOf: (candidate: Candidate) => number,
  maxOutputTokens: number,
): Candidate[][] {
  return groups.map((group) => group.filter((candidate) => limitOf(candidate) >= maxOutputTokens));
}

/** Returns the largest output limit among `candidates`, or 0 when there are none. */
export function largestOutputLimit(
  candidates: readonly Candidate[],
  limitOf: (candidate: Candidate) => number,
): number {
  return Math.max(0, ...candidates.map(limitOf));
}
