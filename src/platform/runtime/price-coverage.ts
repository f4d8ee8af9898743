import { PriceTableError } from '../cost/errors.js';
import type { PriceTable } from '../cost/price-table.js';
import { findProvider, type ProviderCatalog } from '../router/catalog.js';
import type { Policy } from '../router/policy-types.js';
import { uniqueSimilarName } from '../router/similar-names.js';

/** A provider and model that routes of the policy call, with the names of those routes. */
interface CalledModel {
  provider: string;
  model: string;
  routes: string[];
}

/**
 * Checks that the price table prices every provider and model that a route of the policy
 * calls. Admission prices each task at its route's candidates before it runs, so a missing
 * price would fail every task of those routes.
 * @throws PriceTableError at the first missing model, naming the routes that call it, and
 * the table's key that the missing name is likely misspelt as, when exactly one key that
 * `catalog` lacks is that close.
 */
export function checkPriceCoverage(
  policy: Policy,
  prices: PriceTable,
  files: { prices: string; policy: string },
  catalog: ProviderCatalog,
): void {
  for (const { provider, model, routes } of calledModels(policy).values()) {
    if (prices.hasModelPrice(provider, model)) continue;
    const singleRoute = routes.length === 1;
    const named = singleRoute ? `route ${routes[0]}` : `routes ${routes.join(', ')}`;
    const misspelt = misspeltKey(provider, model, prices.data.models, catalog);
    const fix =
      misspelt === undefined
        ? 'add its inputPerMillion and outputPerMillion'
        : `did you mean ${misspelt.found}? Rename it to ${misspelt.expected}, or add the ` +
          "model's inputPerMillion and outputPerMillion";
    throw new PriceTableError(
      files.prices,
      `models.${provider}.${model}`,
      `missing, but ${named} of ${files.policy} ${singleRoute ? 'calls' : 'call'} it, so admission ` +
        `could not price a task of ${singleRoute ? 'that route' : 'those routes'}; ${fix}`,
    );
  }
}

/** Returns the models that routes of the policy call, keyed by `calledKey`. */
function calledModels(policy: Policy): Map<string, CalledModel> {
  const called = new Map<string, CalledModel>();
  for (const [route, settings] of Object.entries(policy.routes)) {
    for (const { provider, model } of settings.candidates) {
      const key = calledKey(provider, model);
      const entry = called.get(key) ?? { provider, model, routes: [] };
      entry.routes.push(route);
      called.set(key, entry);
    }
  }
  return called;
}

function calledKey(provider: string, model: string): string {
  return `${provider}\u0000${model}`;
}

/**
 * Finds the one key of the price table that a missing `provider`, or else a missing `model`
 * of a priced provider, is likely misspelt as, such as `models.provider-C` for provider-c.
 * A key that names a provider or model of `catalog` is spelt right, so it is no
 * candidate: that keeps provider-a from tying with `provdier-c` for provider-c, and
 * llama-8b from passing for a missing llama-70b.
 */
function misspeltKey(
  provider: string,
  model: string,
  models: PriceTable['data']['models'],
  catalog: ProviderCatalog,
): { found: string; expected: string } | undefined {
  const providerModels = Object.hasOwn(models, provider) ? models[provider] : undefined;
  if (providerModels === undefined) {
    const unknown = Object.keys(models).filter((name) => findProvider(catalog, name) === undefined);
    const close = uniqueSimilarName(provider, unknown);
    return close === undefined
      ? undefined
      : { found: `models.${close}`, expected: `models.${provider}` };
  }
  const known = new Set(findProvider(catalog, provider)?.models.map((entry) => entry.name));
  const unknown = Object.keys(providerModels).filter((name) => !known.has(name));
  const close = uniqueSimilarName(model, unknown);
  return close === undefined
    ? undefined
    : { found: `models.${provider}.${close}`, expected: `models.${provider}.${model}` };
}
