import assert from 'node:assert/strict';

import { loadProviderCatalog } from '../../../src/faults/providers/index.js';
import { isPriceTableError } from '../../../src/platform/cost/errors.js';
import { loadPriceTable } from '../../../src/platform/cost/load-price-table.js';
import { PriceTable } from '../../../src/platform/cost/price-table.js';
import type { ProviderCatalog } from '../../../src/platform/router/catalog.js';
import type { Policy } from '../../../src/platform/router/policy-types.js';
import { checkPriceCoverage } from '../../../src/platform/runtime/price-coverage.js';

const FILES = { prices: 'trial-prices.yaml', policy: 'policies/trial.yaml' };

/** Builds a policy whose routes call the given provider/model pairs, with candidates only. */
function policyOf(routes: Record<string, [string, string][]>): Policy {
  const entries = Object.entries(routes).map(([route, pairs]) => [
    route,
    { candidates: pairs.map(([provider, model]) => ({ provider, model, weight: 1 })) },
  ]);
  return { version: 1, routes: Object.fromEntries(entries) } as Policy;
}

/** Loads the shipped table without the models of `removed`, given as provider/model. */
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
  let catalog: ProviderCatalog;

  before(async () => {
    catalog = await loadProviderCatalog();
  });

  it('accepts the shipped table', async () => {
    const policy = policyOf({
      chat: [
        ['provider-a', 'gpt-4o'],
        ['provider-b', 'claude-sonnet'],
      ],
      bench: [['instant', 'instant']],
    });
    const table = await loadPriceTable();
    assert.doesNotThrow(() => checkPriceCoverage(policy, table, FILES, catalog));
  });

  it('names an Object.prototype model name', async () => {
    // A model named like an Object.prototype member would otherwise find that member.
    const policy = policyOf({ chat: [['provider-a', 'toString']] });
    const table = await loadPriceTable();
    assert.throws(
      () => checkPriceCoverage(policy, table, FILES, catalog),
      (error: unknown) => {
        assert.ok(isPriceTableError(error), String(error));
        assert.equal(error.field, 'models.provider-a.toString');
        return true;
      },
    );
  });

  it('names an Object.prototype provider name', async () => {
    const policy = policyOf({ chat: [['constructor', 'name']] });
    const table = await loadPriceTable();
    assert.throws(
      () => checkPriceCoverage(policy, table, FILES, catalog),
      (error: unknown) => {
        assert.ok(isPriceTableError(error), String(error));
        assert.equal(error.field, 'models.constructor.name');
        return true;
      },
    );
  });

  it('names a model one route calls', async () => {
    const policy = policyOf({ chat: [['provider-a', 'gpt-4o']], bench: [['instant', 'instant']] });
    const table = await tableWithout('provider-a/gpt-4o');
    assert.throws(
      () => checkPriceCoverage(policy, table, FILES, catalog),
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
    assert.throws(() => checkPriceCoverage(policy, table, FILES, catalog), {
      message:
        'trial-prices.yaml: models.provider-b.claude-sonnet: missing, but routes chat, ' +
        'chat-fast of policies/trial.yaml call it, so admission could not price a task of ' +
        'those routes; add its inputPerMillion and outputPerMillion',
    });
  });

  describe('misspelt key hint', () => {
    /** A policy that calls provider-a, provider-b and provider-c, all priced in the shipped table. */
    const POLICY = policyOf({
      chat: [
        ['provider-a', 'gpt-4o'],
        ['provider-b', 'claude-sonnet'],
      ],
      cheap: [['provider-c', 'llama-70b']],
    });
    const MISSING_LLAMA =
      'trial-prices.yaml: models.provider-c.llama-70b: missing, but route cheap of ' +
      'policies/trial.yaml calls it, so admission could not price a task of that route; ';

    /** Returns the shipped table with the provider `from` renamed to each of `to`. */
    async function tableRenaming(from: string, ...to: string[]): Promise<PriceTable> {
      const shipped = await loadPriceTable();
      const models = structuredClone(shipped.data.models);
      const moved = models[from];
      assert.ok(moved, `the shipped table prices ${from}`);
      delete models[from];
      for (const name of to) models[name] = structuredClone(moved);
      return new PriceTable({ ...shipped.data, models });
    }

    it('names a provider key in another case', async () => {
      const table = await tableRenaming('provider-c', 'provider-C');
      assert.throws(() => checkPriceCoverage(POLICY, table, FILES, catalog), {
        message:
          `${MISSING_LLAMA}did you mean models.provider-C? Rename it to models.provider-c, ` +
          "or add the model's inputPerMillion and outputPerMillion",
      });
    });

    it('names a provider key with swapped letters', async () => {
      const table = await tableRenaming('provider-c', 'provdier-c');
      assert.throws(() => checkPriceCoverage(POLICY, table, FILES, catalog), {
        message:
          `${MISSING_LLAMA}did you mean models.provdier-c? Rename it to models.provider-c, ` +
          "or add the model's inputPerMillion and outputPerMillion",
      });
    });

    it('names a misspelt model key', async () => {
      const shipped = await loadPriceTable();
      const models = structuredClone(shipped.data.models);
      const { 'gpt-4o': price, ...others } = models['provider-a'] ?? {};
      assert.ok(price, 'the shipped table prices provider-a/gpt-4o');
      models['provider-a'] = { ...others, gpt4o: price };
      const table = new PriceTable({ ...shipped.data, models });
      assert.throws(() => checkPriceCoverage(POLICY, table, FILES, catalog), {
        message:
          'trial-prices.yaml: models.provider-a.gpt-4o: missing, but route chat of ' +
          'policies/trial.yaml calls it, so admission could not price a task of that route; ' +
          'did you mean models.provider-a.gpt4o? Rename it to models.provider-a.gpt-4o, ' +
          "or add the model's inputPerMillion and outputPerMillion",
      });
    });

    it('omits it for two equally close keys', async () => {
      const table = await tableRenaming('provider-c', 'provider-d', 'provider-e');
      assert.throws(() => checkPriceCoverage(POLICY, table, FILES, catalog), {
        message: `${MISSING_LLAMA}add its inputPerMillion and outputPerMillion`,
      });
    });

    it('omits it for a close catalog model', async () => {
      // llama-8b is two edits from llama-70b, but the catalog lists it as a model of its own.
      const table = await tableWithout('provider-c/llama-70b');
      assert.throws(() => checkPriceCoverage(POLICY, table, FILES, catalog), {
        message: `${MISSING_LLAMA}add its inputPerMillion and outputPerMillion`,
      });
    });

    it('omits it when no key is close', async () => {
      const table = await tableRenaming('provider-c', 'vendor-c');
      assert.throws(() => checkPriceCoverage(POLICY, table, FILES, catalog), {
        message: `${MISSING_LLAMA}add its inputPerMillion and outputPerMillion`,
      });
    });
  });
});
