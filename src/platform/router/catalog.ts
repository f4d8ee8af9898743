import type { WireFormat } from '../providers/types.js';

/** The part of a provider profile the router reads: wire format, quality tiers and output limits. */
export interface CatalogProvider {
  name: string;
  format: WireFormat;
  models: readonly { name: string; qualityTier: number; maxOutputTokens: number }[];
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
