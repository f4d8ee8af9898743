import type { ProviderCatalog } from './catalog.js';
import { routeCandidates } from './candidate-order.js';
import {
  contextWindowOf,
  largestInputRoom,
  largestOutputLimit,
  outputLimitOf,
  servingGroups,
} from './output-limits.js';
import type { Candidate, Policy } from './policy-types.js';

/**
 * Output limits and context windows of each route of a policy, over the candidates the router
 * may call for it: its own, then those of its fallback routes at or above its quality floor.
 */
export class RouteOutputLimits {
  readonly #catalog: ProviderCatalog;
  readonly #groups = new Map<string, Candidate[][]>();

  constructor(policy: Policy, catalog: ProviderCatalog) {
    this.#catalog = catalog;
    for (const name of Object.keys(policy.routes)) {
      this.#groups.set(name, routeCandidates(policy, name, catalog));
    }
  }

  /** Returns the largest output limit among the route's candidates, or undefined for an unknown route. */
  largestLimit(route: string): number | undefined {
    const groups = this.#groups.get(route);
    if (groups === undefined) return undefined;
    return largestOutputLimit(groups.flat(), (candidate) => this.#limitOf(candidate));
  }

  /**
   * Returns the route's candidates whose model accepts `maxOutputTokens`, the only ones
   * the router calls for such a task; empty for an unknown route.
   */
  servingCandidates(route: string, maxOutputTokens: number): Candidate[] {
    const groups = this.#groups.get(route) ?? [];
    return servingGroups(groups, (candidate) => this.#limitOf(candidate), maxOutputTokens).flat();
  }

  /**
   * Returns the most input tokens a task with `maxOutputTokens` may send on the route: the
   * largest context window among the candidates that accept `maxOutputTokens`, minus it.
   * Returns undefined for an unknown route or when no candidate accepts `maxOutputTokens`.
   */
  maxInputTokens(route: string, maxOutputTokens: number): number | undefined {
    const groups = this.#groups.get(route);
    if (groups === undefined) return undefined;
    const limits = {
      outputLimitOf: (candidate: Candidate) => this.#limitOf(candidate),
      contextWindowOf: (candidate: Candidate) => contextWindowOf(this.#catalog, candidate),
    };
    return largestInputRoom(groups.flat(), limits, maxOutputTokens);
  }

  #limitOf(candidate: Candidate): number {
    return outputLimitOf(this.#catalog, candidate);
  }
}
