import { contextWindowTokensOf, maxOutputTokensOf, type ProviderCatalog } from './catalog.js';
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

/**
 * Returns the context window of the candidate's model in tokens: 0 when the catalog lacks the
 * model, so that such a candidate serves no task, and Infinity when its entry sets none.
 */
export function contextWindowOf(catalog: ProviderCatalog, candidate: Candidate): number {
  return contextWindowTokensOf(catalog, candidate.provider, candidate.model) ?? 0;
}

/**
 * Returns whether a window of `window` tokens fits `inputTokens` plus `maxOutputTokens`.
 * A provider rejects a larger request with 400, because the window counts the output too.
 */
export function fitsContextWindow(
  window: number,
  inputTokens: number,
  maxOutputTokens: number,
): boolean {
  return inputTokens + maxOutputTokens <= window;
}

/**
 * Returns the most input tokens some candidate takes next to `maxOutputTokens`: the largest
 * context window among the candidates whose model accepts `maxOutputTokens`, minus it.
 * Returns undefined when no candidate accepts `maxOutputTokens`, and a negative number when
 * no such window has room for the output alone.
 */
export function largestInputRoom(
  candidates: readonly Candidate[],
  limits: {
    outputLimitOf: (candidate: Candidate) => number;
    contextWindowOf: (candidate: Candidate) => number;
  },
  maxOutputTokens: number,
): number | undefined {
  let room: number | undefined;
  for (const candidate of candidates) {
    if (limits.outputLimitOf(candidate) < maxOutputTokens) continue;
    const candidateRoom = limits.contextWindowOf(candidate) - maxOutputTokens;
    room = room === undefined ? candidateRoom : Math.max(room, candidateRoom);
  }
  return room;
}
