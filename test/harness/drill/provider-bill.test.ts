import assert from 'node:assert/strict';

import type { MetricSampleValue } from '../../../src/harness/drill/metric-samples.js';
import { providerBillOf } from '../../../src/harness/drill/provider-bill.js';
import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import type { PriceTable } from '../../../src/platform/cost/price-table.js';

function tokens(
  provider: string,
  model: string,
  key: string,
  direction: 'input' | 'output',
  value: number,
): MetricSampleValue {
  return { name: 'mock_provider_tokens_total', labels: { provider, model, key, direction }, value };
}

function charged(tenant: string, value: number): MetricSampleValue {
  return { name: 'scalegate_token_cost_usd_total', labels: { tenant, route: 'chat' }, value };
}

describe('providerBillOf', () => {
  let prices: PriceTable;
  const price = (
    provider: string,
    model: string,
    usage: Parameters<PriceTable['priceTokens']>[2],
  ) => prices.priceTokens(provider, model, usage);

  before(async () => {
    prices = await loadPriceTable();
  });

  it('prices each model over every key', () => {
    const bill = providerBillOf(
      [
        tokens('provider-a', 'gpt-4o', 'k1', 'input', 600_000),
        tokens('provider-a', 'gpt-4o', 'k2', 'input', 400_000),
        tokens('provider-a', 'gpt-4o', 'k1', 'output', 100_000),
        // The mock providers serve no tokens without an API key, so such a series is ignored.
        tokens('provider-a', 'gpt-4o', 'none', 'input', 5_000_000),
        tokens('provider-b', 'claude-sonnet', 'k1', 'output', 1_000_000),
      ],
      price,
    );
    // gpt-4o: 1M input at $2.5 and 0.1M output at $10. claude-sonnet: 1M output at $15.
    assert.deepEqual(bill.lines, [
      {
        provider: 'provider-a',
        model: 'gpt-4o',
        inputTokens: 1_000_000,
        outputTokens: 100_000,
        usd: 3.5,
      },
      {
        provider: 'provider-b',
        model: 'claude-sonnet',
        inputTokens: 0,
        outputTokens: 1_000_000,
        usd: 15,
      },
    ]);
    assert.equal(bill.totalUsd, 18.5);
  });

  it('subtracts every tenant charge', () => {
    const bill = providerBillOf(
      [
        tokens('provider-a', 'gpt-4o', 'k1', 'input', 1_000_000),
        charged('tenant-alpha', 1.2),
        charged('tenant-noisy', 1.1),
      ],
      price,
    );
    assert.equal(bill.chargedUsd, 2.3);
    assert.equal(bill.differenceUsd, 0.2);
  });

  it('goes negative on overcharge', () => {
    const bill = providerBillOf(
      [tokens('provider-a', 'gpt-4o', 'k1', 'input', 1_000_000), charged('tenant-alpha', 3)],
      price,
    );
    assert.equal(bill.differenceUsd, -0.5);
  });

  it('counts unpriced tokens apart', () => {
    const bill = providerBillOf(
      [
        tokens('provider-a', 'unknown', 'k1', 'input', 700),
        tokens('provider-a', 'unknown', 'k1', 'output', 30),
        tokens('provider-a', 'gpt-4o', 'k1', 'output', 1_000_000),
      ],
      price,
    );
    assert.equal(bill.unpricedTokens, 730);
    assert.deepEqual(
      bill.lines.map((line) => line.model),
      ['gpt-4o'],
    );
    assert.equal(bill.totalUsd, 10);
  });

  it('names unread providers in order', () => {
    const bill = providerBillOf([], price, ['provider-c', 'provider-a']);
    assert.deepEqual(bill.unreadProviders, ['provider-a', 'provider-c']);
    assert.equal(bill.totalUsd, 0);
    assert.equal(bill.differenceUsd, 0);
  });
});
