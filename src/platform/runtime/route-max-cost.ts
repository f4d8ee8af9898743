import type { PriceTable } from '../cost/price-table.js';
import type { RouteOutputLimits } from '../router/route-output-limits.js';
import type { MaxCostEstimator } from './admission-gate.js';

/**
 * Creates the estimator of a task's budget reservation: its tokens at the most expensive
 * candidate of its route, own or fallback, whose model accepts the task's `maxOutputTokens`.
 * The router never calls the other candidates for the task, so they do not set the amount.
 */
export function routeMaxCost(prices: PriceTable, limits: RouteOutputLimits): MaxCostEstimator {
  return (request, tokens) => {
    const candidates = limits.servingCandidates(request.route, request.maxOutputTokens);
    return prices.maxTokenCostUsd(candidates, tokens.inputTokens, tokens.outputTokens);
  };
}
