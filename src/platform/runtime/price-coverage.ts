import { PriceTableError } from '../cost/errors.js';
import type { PriceTable } from '../cost/price-table.js';
import type { Policy } from '../router/policy-types.js';

/**
 * Checks that the price table prices every provider and model that a route of the policy
 * calls. Admission prices each task at its route's candidates before it runs, so a missing
 * price would fail every task of those routes.
 * @throws PriceTableError at the first missing model, naming the routes that call it.
 */
export function checkPriceCoverage(
  policy: Policy,
  prices: PriceTable,
  files: { prices: string; policy: string },
): void {
  const routesByModel = new Map<string, { provider: string; model: string; routes: string[] }>();
  for (const [route, settings] of Object.entries(policy.routes)) {
    for (const { provider, model } of settings.candidates) {
      const key = `${provider}\u0000${model}`;
      const entry = routesByModel.get(key) ?? { provider, model, routes: [] };
      entry.routes.push(route);
      routesByModel.set(key, entry);
    }
  }
  for (const { provider, model, routes } of routesByModel.values()) {
    if (prices.data.models[provider]?.[model] !== undefined) continue;
    const singleRoute = routes.length === 1;
    const named = singleRoute ? `route ${routes[0]}` : `routes ${routes.join(', ')}`;
    throw new PriceTableError(
      files.prices,
      `models.${provider}.${model}`,
      `missing, but ${named} of ${files.policy} ${singleRoute ? 'calls' : 'call'} it, so admission ` +
        `could not price a task of ${singleRoute ? 'that route' : 'those routes'}; add its ` +
        'inputPerMillion and outputPerMillion',
    );
  }
}
