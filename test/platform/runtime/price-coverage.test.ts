import assert from 'node:assert/strict';

import { isPriceTableError } from '../../../src/platform/cost/errors.js';
import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import { PriceTable } from '../../../src/platform/cost/price-table.js';
import type { Policy } from '../../../src/platform/router/policy-types.js';
import { checkPriceCoverage } from '../../../src/platform/runtime/price-coverage.js';

const FILES = { prices: 'trial-prices.yaml', policy: 'policies/trial.yaml' };

/** A policy whose routes call the given provider/model pairs; only candidates are read. */
function policyOf(routes: Record<string, [string, string][]>): Policy {
  const entries = Object.entries(routes).map(([route, pairs]) => [
    route,
    { candidates: pairs.map(([provider, model]) => ({ provider, model, weight: 1 })) },
  ]);
  return { version: 1, routes: Object.fromEntries(entries) } as Policy;
}

/** The shipped table without the models of `removed`, given as provider/model. */
async function tableWithout(...removed: string[]): Promise<PriceTable> {
  const shipped = await loadPriceTable();
  const models = structuredClone(shipped.data.models);
  for (const pair of removed) {
    const [provider = '', model = ''] = pair.split('/');
    delete models[provider]?.[model];
  }
  return new PriceTable({ ...shipped.data, models });
}

describe('checkPriceCoverage', () => {
  it('accepts the shipped table', async () => {
    const policy = policyOf({
      chat: [
        ['provider-a', 'gpt-4o'],
        ['provider-b', 'claude-sonnet'],
      ],
      bench: [['instant', 'instant']],
    });
    const table = await loadPriceTable();
    assert.doesNotThrow(() => checkPriceCoverage(policy, table, FILES));
  });

  it('names a model one route calls', async () => {
    const policy = policyOf({ chat: [['provider-a', 'gpt-4o']], bench: [['instant', 'instant']] });
    const table = await tableWithout('provider-a/gpt-4o');
    assert.throws(
      () => checkPriceCoverage(policy, table, FILES),
      (error: unknown) => {
        assert.ok(isPriceTableError(error), String(error));
        assert.equal(error.field, 'models.provider-a.gpt-4o');
        assert.equal(
          error.message,
          'trial-prices.yaml: models.provider-a.gpt-4o: missing, but route chat of ' +
            'policies/trial.yaml calls it, so admission could not price a task of that route; ' +
            'add its inputPerMillion and outputPerMillion',
        );
        return true;
      },
    );
  });

  it('names every route that calls the model', async () => {
    const policy = policyOf({
      chat: [['provider-b', 'claude-sonnet']],
      'chat-fast': [
        ['provider-a', 'gpt-4o-mini'],
        ['provider-b', 'claude-sonnet'],
      ],
    });
    const table = await tableWithout('provider-b/claude-sonnet');
    assert.throws(() => checkPriceCoverage(policy, table, FILES), {
      message:
        'trial-prices.yaml: models.provider-b.claude-sonnet: missing, but routes chat, ' +
        'chat-fast of policies/trial.yaml call it, so admission could not price a task of ' +
        'those routes; add its inputPerMillion and outputPerMillion',
    });
  });
});
