import type { WireFormat } from '../providers/types.js';

/**
 * The part of a provider profile the router reads: wire format, quality tiers, output limits
 * and context windows.
 */
export interface CatalogProvider {
  name: string;
  format: WireFormat;
  models: readonly CatalogModel[];
}

/** One model of a {@link CatalogProvider}. */
export interface CatalogModel {
  name: string;
  qualityTier: number;
  maxOutputTokens: number;
  /**
   * Context window in tokens. Provider profiles always set it. When it is absent the router
   * applies no context window limit to the model.
   */
  contextWindowTokens?: number;
}

/** Provider profiles, as `loadProviderCatalog` returns them. */
export type ProviderCatalog = readonly CatalogProvider[];

/** Finds a provider's profile by name. */
export function findProvider(catalog: ProviderCatalog, name: string): CatalogProvider | undefined {
  return catalog.find((provider) => provider.name === name);
}

/** Returns the quality tier of `provider/model`, or undefined when the catalog lacks it. */
export function qualityTierOf(
  catalog: ProviderCatalog,
  provider: string,
  model: string,
): number | undefined {
  return findProvider(catalog, provider)?.models.find((entry) => entry.name === model)?.qualityTier;
}

/**
 * Returns the largest `max_tokens` that `provider/model` accepts, or undefined when the
 * catalog lacks the model.
 */
export function maxOutputTokensOf(
  catalog: ProviderCatalog,
  provider: string,
  model: string,
): number | undefined {
  return findProvider(catalog, provider)?.models.find((entry) => entry.name === model)
    ?.maxOutputTokens;
}

/**
 * Returns the context window of `provider/model` in tokens: undefined when the catalog lacks
 * the model, and Infinity when its entry sets no window.
 */
export function contextWindowTokensOf(
  catalog: ProviderCatalog,
  provider: string,
  model: string,
): number | undefined {
  const entry = findProvider(catalog, provider)?.models.find((item) => item.name === model);
  if (entry === undefined) return undefined;
  return entry.contextWindowTokens ?? Number.POSITIVE_INFINITY;
}
