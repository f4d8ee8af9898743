import { roundUsd, sumUsd } from '../../platform/cost/usd.js';
import type { TokenUsage } from '../../platform/task.js';
import type { ProviderBill, ProviderBillLine } from '../report/types.js';
import type { MetricSampleValue } from './metric-samples.js';

/** Pricer of a provider's tokens for a model in USD, which throws for a pair without a price. */
export type TokenPricer = (provider: string, model: string, usage: TokenUsage) => number;

/** Key label of requests without an API key. The mock providers serve such requests no tokens. */
const NO_KEY = 'none';

/**
 * Builds the providers' bill from `samples`: the mock providers' `mock_provider_tokens_total`
 * series, labelled with `provider`, and the platform's `scalegate_token_cost_usd_total`.
 * `unread` names the providers whose counters could not be read. Tokens of a model without a
 * price count in `unpricedTokens` and stay out of the bill.
 */
export function providerBillOf(
  samples: readonly MetricSampleValue[],
  priceTokens: TokenPricer,
  unread: readonly string[] = [],
): ProviderBill {
  const usage = new Map<string, { provider: string; model: string } & TokenUsage>();
  let chargedUsd = 0;
  for (const sample of samples) {
    if (sample.name === 'scalegate_token_cost_usd_total') {
      chargedUsd = roundUsd(chargedUsd + sample.value);
      continue;
    }
    if (sample.name !== 'mock_provider_tokens_total' || sample.labels.key === NO_KEY) continue;
    const provider = sample.labels.provider ?? 'unknown';
    const model = sample.labels.model ?? 'unknown';
    const key = JSON.stringify([provider, model]);
    const entry = usage.get(key) ?? { provider, model, inputTokens: 0, outputTokens: 0 };
    if (sample.labels.direction === 'input') entry.inputTokens += sample.value;
    if (sample.labels.direction === 'output') entry.outputTokens += sample.value;
    usage.set(key, entry);
  }
  const lines: ProviderBillLine[] = [];
  let unpricedTokens = 0;
  for (const entry of usage.values()) {
    let usd: number;
    try {
      usd = priceTokens(entry.provider, entry.model, entry);
    } catch {
      unpricedTokens += entry.inputTokens + entry.outputTokens;
      continue;
    }
    lines.push({ ...entry, usd });
  }
  lines.sort((a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));
  const totalUsd = sumUsd(lines.map((line) => line.usd));
  return {
    lines,
    totalUsd,
    chargedUsd,
    differenceUsd: roundUsd(totalUsd - chargedUsd),
    unpricedTokens,
    unreadProviders: [...unread].sort(),
  };
}
