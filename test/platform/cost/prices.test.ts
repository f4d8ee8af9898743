import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  isPriceNotFoundError,
  isPriceTableError,
  loadPriceTable,
  type PriceTable,
  parsePriceTable,
  serverlessInvocationCostUsd,
  workerPoolCostUsd,
  workerTaskCostUsd,
} from '../../../src/platform/cost/index.js';

/** Asserts a dollar amount to a billionth of a dollar, far finer than a cent. */
function assertUsd(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `expected $${expected}, got $${actual}`);
}

describe('PriceTable', () => {
  let table: PriceTable;

  before(async () => {
    table = await loadPriceTable('fixtures/prices.yaml');
  });

  it('loads the dated fixture', () => {
    assert.equal(table.effectiveDate, '2025-01-15');
    assert.ok(table.data.source.length > 0);
  });

  it('prices a million tokens each way', () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    assertUsd(table.priceTokens('provider-b', 'claude-sonnet', usage), 18);
    assertUsd(table.priceTokens('provider-a', 'gpt-4o', usage), 12.5);
    assertUsd(table.priceTokens('instant', 'instant', usage), 0);
  });

  it('prices a fixture completion to the exact decimal', () => {
    // 135 input tokens at $2.5 and 32 output tokens at $10 per million: 0.0003375 + 0.00032,
    // which float addition makes 0.0006575000000000001.
    const usage = { inputTokens: 135, outputTokens: 32 };
    assert.equal(table.priceTokens('provider-a', 'gpt-4o', usage), 0.0006575);
  });

  it('prices a mixed completion to the cent', () => {
    const usage = { inputTokens: 2_000_000, outputTokens: 500_000 };
    assertUsd(table.priceTokens('provider-a', 'gpt-4o-mini', usage), 0.6);
    const small = { inputTokens: 1234, outputTokens: 567 };
    assertUsd(table.priceTokens('provider-a', 'gpt-4o', small), 0.008755);
  });

  it('reserves at the most expensive candidate', () => {
    const candidates = [
      { provider: 'provider-a', model: 'gpt-4o' },
      { provider: 'provider-b', model: 'claude-sonnet' },
      { provider: 'provider-c', model: 'llama-70b' },
    ];
    assertUsd(table.maxTokenCostUsd(candidates, 1000, 1000), 0.018);
  });

  it('raises PriceNotFoundError for an unknown model', () => {
    assert.throws(
      () => table.modelPrice('provider-a', 'gpt-9'),
      (error: unknown) => isPriceNotFoundError(error) && error.model === 'gpt-9',
    );
  });

  it('names the field of an invalid price', () => {
    const text = JSON.stringify({
      effectiveDate: '2025-01-15',
      source: 'test',
      models: { p: { m: { inputPerMillion: -1, outputPerMillion: 1 } } },
      executors: {},
    });
    assert.throws(
      () => parsePriceTable(text, 'prices.yaml'),
      (error: unknown) =>
        isPriceTableError(error) &&
        error.field === 'models.p.m.inputPerMillion' &&
        error.message ===
          'prices.yaml: models.p.m.inputPerMillion: expected a number >= 0, received -1',
    );
  });

  it('keeps the hint of a quoted price', () => {
    const text = JSON.stringify({
      effectiveDate: '2025-01-15',
      source: 'test',
      models: { p: { m: { inputPerMillion: '2.5', outputPerMillion: 1 } } },
      executors: {},
    });
    assert.throws(() => parsePriceTable(text, 'prices.yaml'), {
      message:
        'prices.yaml: models.p.m.inputPerMillion: expected a number >= 0, received "2.5"; ' +
        'write 2.5 without quotes',
    });
  });

  it('gives the line of a YAML error', () => {
    assert.throws(() => parsePriceTable('a: b: c\n', 'prices.yaml'), {
      message:
        'prices.yaml: (file): invalid YAML: Nested mappings are not allowed in compact ' +
        'mappings at line 1, column 4',
    });
  });

  it('rejects an empty file', () => {
    assert.throws(() => parsePriceTable('', 'prices.yaml'), {
      name: 'PriceTableError',
      message:
        'prices.yaml: (file): the file contains no price table; write effectiveDate, source, ' +
        'models and executors, as fixtures/prices.yaml does',
    });
  });

  it('rejects a file of only comments', () => {
    assert.throws(() => parsePriceTable('# prices\n\n', 'prices.yaml'), {
      name: 'PriceTableError',
      message:
        'prices.yaml: (file): the file contains no price table; write effectiveDate, source, ' +
        'models and executors, as fixtures/prices.yaml does',
    });
  });

  it('names the fix for a missing file', async () => {
    await assert.rejects(loadPriceTable('/nonexistent/prices.yaml'), (error: unknown) => {
      assert.ok(isPriceTableError(error), String(error));
      assert.equal(error.field, '(file)');
      assert.equal(
        error.message,
        '/nonexistent/prices.yaml: (file): could not be read: ENOENT: no such file or ' +
          "directory, open '/nonexistent/prices.yaml'; pass the path of a readable price table",
      );
      return true;
    });
  });

  it('rejects an undated table', () => {
    const text = JSON.stringify({ effectiveDate: 'soon', source: 's', models: {}, executors: {} });
    assert.throws(
      () => parsePriceTable(text, 'prices.yaml'),
      /effectiveDate: expected a calendar date/,
    );
  });

  it('rejects a day that does not exist', () => {
    const text = JSON.stringify({
      effectiveDate: '2025-02-30',
      source: 's',
      models: {},
      executors: {},
    });
    assert.throws(
      () => parsePriceTable(text, 'prices.yaml'),
      /effectiveDate: expected a calendar date as YYYY-MM-DD, received "2025-02-30"/,
    );
  });

  it('rejects an unknown model field', () => {
    const text = shippedWith(
      'gpt-4o-mini: { inputPerMillion: 0.15,',
      'gpt-4o-mini: { inputPerMillion: 0.15, cachedPerMillion: 0.075,',
    );
    assert.throws(() => parsePriceTable(text, 'prices.yaml'), {
      name: 'PriceTableError',
      field: 'models.provider-a.gpt-4o-mini.cachedPerMillion',
      message:
        'prices.yaml: models.provider-a.gpt-4o-mini.cachedPerMillion: unknown field; known ' +
        'fields: inputPerMillion, outputPerMillion; remove it or correct its name',
    });
  });

  it('rejects a decimal comma in a price', () => {
    // YAML reads `2,5` in a flow map as the price 2 and a second key `5` without a value.
    const text = shippedWith('gpt-4o: { inputPerMillion: 2.5,', 'gpt-4o: { inputPerMillion: 2,5,');
    assert.throws(() => parsePriceTable(text, 'prices.yaml'), {
      name: 'PriceTableError',
      field: 'models.provider-a.gpt-4o.5',
      message:
        'prices.yaml: models.provider-a.gpt-4o.5: unknown field; known fields: ' +
        'inputPerMillion, outputPerMillion; remove it or correct its name',
    });
  });

  it('rejects a misspelled optional executor field', () => {
    // Without the check, the function size would fall back to 1,024 MB without a word.
    const text = shippedWith('memoryMbPerFunction: 1024', 'memoryMbPerFunktion: 2048');
    assert.throws(() => parsePriceTable(text, 'prices.yaml'), {
      name: 'PriceTableError',
      field: 'executors.serverless.memoryMbPerFunktion',
      message:
        'prices.yaml: executors.serverless.memoryMbPerFunktion: unknown field; known fields: ' +
        'perGbSecond, perMillionRequests, memoryMbPerFunction; remove it or correct its name',
    });
  });

  it('rejects a misspelled worker size field', () => {
    const text = shippedWith('vcpuPerWorker: 0.25', 'vcpusPerWorker: 1');
    assert.throws(() => parsePriceTable(text, 'prices.yaml'), {
      name: 'PriceTableError',
      field: 'executors.worker.vcpusPerWorker',
      message:
        'prices.yaml: executors.worker.vcpusPerWorker: unknown field; known fields: ' +
        'perVcpuHour, perGbHour, vcpuPerWorker, memoryGbPerWorker; remove it or correct its name',
    });
  });

  it('rejects an unknown executor', () => {
    const text = shippedWith('executors:\n', 'executors:\n  batch: { perHour: 1 }\n');
    assert.throws(() => parsePriceTable(text, 'prices.yaml'), {
      name: 'PriceTableError',
      field: 'executors.batch',
      message:
        'prices.yaml: executors.batch: unknown field; known fields: worker, serverless; ' +
        'remove it or correct its name',
    });
  });

  it('rejects an unknown top-level field', () => {
    const text = shippedWith(
      "effectiveDate: '2025-01-15'",
      "effectiveDate: '2025-01-15'\ncurrency: EUR",
    );
    assert.throws(() => parsePriceTable(text, 'prices.yaml'), {
      name: 'PriceTableError',
      field: 'currency',
      message:
        'prices.yaml: currency: unknown field; known fields: effectiveDate, source, models, ' +
        'executors; remove it or correct its name',
    });
  });

  it('defaults the worker size', () => {
    const worker = { perVcpuHour: 0.04, perGbHour: 0.004 };
    const serverless = { perGbSecond: 0.00001, perMillionRequests: 0.2 };
    const text = JSON.stringify({
      effectiveDate: '2025-01-15',
      source: 's',
      models: {},
      executors: { worker, serverless },
    });
    const table = parsePriceTable(text, 'prices.yaml');
    assert.equal(table.executors.worker.vcpuPerWorker, 0.25);
    assert.equal(table.executors.worker.memoryGbPerWorker, 0.5);
  });

  it('defaults the serverless function to 1,024 MB', () => {
    const table = parsePriceTable(tableWithServerless({}), 'prices.yaml');
    assert.equal(table.executors.serverless.memoryMbPerFunction, 1024);
  });

  it('reads the serverless function size', () => {
    const table = parsePriceTable(tableWithServerless({ memoryMbPerFunction: 512 }), 'p.yaml');
    assert.equal(table.executors.serverless.memoryMbPerFunction, 512);
  });

  it('rejects a serverless function size that is not a whole number of MB', () => {
    assert.throws(
      () => parsePriceTable(tableWithServerless({ memoryMbPerFunction: 0.5 }), 'prices.yaml'),
      (error: unknown) =>
        isPriceTableError(error) &&
        error.field === 'executors.serverless.memoryMbPerFunction' &&
        error.message ===
          'prices.yaml: executors.serverless.memoryMbPerFunction: expected a positive integer, received 0.5',
    );
  });
});

describe('PriceTable names', () => {
  let table: PriceTable;

  before(async () => {
    table = await loadPriceTable('fixtures/prices.yaml');
  });

  it('prices no Object.prototype member', () => {
    for (const [provider, model] of [
      ['provider-a', 'constructor'],
      ['provider-a', 'toString'],
      ['provider-a', '__proto__'],
      ['constructor', 'gpt-4o'],
      ['hasOwnProperty', 'call'],
    ] as const) {
      assert.equal(table.hasModelPrice(provider, model), false, `${provider}/${model}`);
      assert.throws(
        () => table.modelPrice(provider, model),
        (error: unknown) => isPriceNotFoundError(error),
        `${provider}/${model}`,
      );
    }
    assert.equal(table.hasModelPrice('provider-a', 'gpt-4o'), true);
  });

  it('rejects a __proto__ provider', () => {
    const text = shippedWith(
      '  provider-a:\n',
      '  __proto__:\n    free: { inputPerMillion: 0, outputPerMillion: 0 }\n  provider-a:\n',
    );
    assert.throws(
      () => parsePriceTable(text, 'prices.yaml'),
      (error: unknown) => {
        assert.ok(isPriceTableError(error), String(error));
        assert.equal(
          error.message,
          'prices.yaml: models.__proto__: invalid name __proto__; name a provider or model of the catalog, such as provider-a',
        );
        return true;
      },
    );
  });

  it('rejects a __proto__ model', () => {
    const text = shippedWith(
      '    gpt-4o: {',
      '    __proto__: { inputPerMillion: 0, outputPerMillion: 0 }\n    gpt-4o: {',
    );
    assert.throws(
      () => parsePriceTable(text, 'prices.yaml'),
      (error: unknown) => {
        assert.ok(isPriceTableError(error), String(error));
        assert.equal(error.field, 'models.provider-a.__proto__');
        return true;
      },
    );
  });

  it('keeps a constructor model as its own price', () => {
    const text = shippedWith(
      '    gpt-4o: {',
      '    constructor: { inputPerMillion: 1, outputPerMillion: 2 }\n    gpt-4o: {',
    );
    const priced = parsePriceTable(text, 'prices.yaml');
    assert.deepEqual(priced.modelPrice('provider-a', 'constructor'), {
      inputPerMillion: 1,
      outputPerMillion: 2,
    });
  });
});

/** Returns fixtures/prices.yaml with `search` replaced by `replacement`, which must occur. */
function shippedWith(search: string, replacement: string): string {
  const shipped = readFileSync('fixtures/prices.yaml', 'utf8');
  assert.ok(shipped.includes(search), `fixtures/prices.yaml contains ${search}`);
  return shipped.replace(search, replacement);
}

/** Returns a price table in JSON whose serverless section adds `fields` to its two prices. */
function tableWithServerless(fields: Record<string, unknown>): string {
  return JSON.stringify({
    effectiveDate: '2025-01-15',
    source: 's',
    models: {},
    executors: {
      worker: { perVcpuHour: 0.04, perGbHour: 0.004 },
      serverless: { perGbSecond: 0.00001, perMillionRequests: 0.2, ...fields },
    },
  });
}

describe('executor cost', () => {
  let table: PriceTable;

  before(async () => {
    table = await loadPriceTable('fixtures/prices.yaml');
  });

  it('bills a worker pool per hour of wall time', () => {
    const usage = { workers: 24, vcpuPerWorker: 1, memoryGbPerWorker: 2, wallMs: 3_600_000 };
    assertUsd(workerPoolCostUsd(table.executors.worker, usage), 1.18488);
  });

  it('bills a pool of the table worker size', () => {
    // 24 workers of 0.25 vCPU and 0.5 GB for 30 minutes.
    const perWorkerHour = 0.25 * 0.04048 + 0.5 * 0.004445;
    assertUsd(table.workerPoolUsd(24, 1_800_000), 24 * perWorkerHour * 0.5);
  });

  it('bills a worker pool to the exact decimal', () => {
    // 24 x (0.04048 + 2 x 0.004445) is 1.1848800000000002 in float arithmetic.
    const usage = { workers: 24, vcpuPerWorker: 1, memoryGbPerWorker: 2, wallMs: 3_600_000 };
    assert.equal(workerPoolCostUsd(table.executors.worker, usage), 1.18488);
    assert.equal(table.workerPoolUsd(24, 1_800_000), 0.14811);
  });

  it('prorates a worker pool to the millisecond', () => {
    const usage = { workers: 1, vcpuPerWorker: 1, memoryGbPerWorker: 0, wallMs: 90_000 };
    assertUsd(workerPoolCostUsd(table.executors.worker, usage), 0.001012);
  });

  it('apportions a pool bill by busy time', () => {
    assertUsd(workerTaskCostUsd(1.18488, 3000, 60_000), 0.059244);
    assertUsd(workerTaskCostUsd(1.18488, 0, 0), 0);
  });

  it('bills serverless per ms of memory-duration plus per request', () => {
    const invocation = { durationMs: 1500.2, memoryMb: 512 };
    const cost = serverlessInvocationCostUsd(table.executors.serverless, invocation);
    // 1,501 ms billed x 0.5 GB = 0.7505 GB-s, and a million such invocations cost $12.71.
    assertUsd(cost, 0.7505 * 0.0000166667 + 0.0000002);
    assert.equal((cost * 1_000_000).toFixed(2), '12.71');
  });
});
