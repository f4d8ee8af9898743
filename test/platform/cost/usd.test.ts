import assert from 'node:assert/strict';

import { Redis } from 'ioredis';

import {
  addUsd,
  apportionUsd,
  ROUND_USD_LUA,
  roundUsd,
  sumUsd,
} from '../../../src/platform/cost/usd.js';

describe('roundUsd', () => {
  it('removes the noise of adding two token prices', () => {
    // 135 input tokens of gpt-4o at $2.5 and 32 output tokens at $10 per million.
    assert.equal(0.0003375 + 0.00032, 0.0006575000000000001);
    assert.equal(roundUsd(0.0003375 + 0.00032), 0.0006575);
  });

  it('rounds to the picodollar', () => {
    assert.equal(roundUsd(0.123456789012345), 0.123456789012);
    assert.equal(roundUsd(0.0000012345678904), 0.000001234568);
    assert.equal(roundUsd(0.0000000000005), 0.000000000001);
  });

  it('returns 0, not -0, for a small negative difference', () => {
    assert.ok(Object.is(roundUsd(-1e-13), 0));
    assert.ok(Object.is(roundUsd(-0), 0));
  });

  it('leaves amounts beyond 2^53 picodollars unchanged', () => {
    assert.equal(roundUsd(9007.2 + 1e-13), 9007.2 + 1e-13);
    assert.equal(roundUsd(1e6 + 0.1), 1e6 + 0.1);
  });

  it('passes NaN and infinities through', () => {
    assert.ok(Number.isNaN(roundUsd(Number.NaN)));
    assert.equal(roundUsd(Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY);
  });
});

describe('addUsd and sumUsd', () => {
  it('adds to the exact decimal', () => {
    assert.equal(addUsd(0.1, 0.2), 0.3);
    assert.equal(addUsd(0.0006575, -0.0003375), 0.00032);
  });

  it('sums ten charges to the budget they fill', () => {
    const charges = Array.from({ length: 10 }, () => 0.00003);
    assert.equal(
      charges.reduce((sum, charge) => sum + charge, 0),
      0.00030000000000000003,
    );
    assert.equal(sumUsd(charges), 0.0003);
  });

  it('sums nothing to 0', () => {
    assert.equal(sumUsd([]), 0);
  });
});

describe('apportionUsd', () => {
  it('splits by weight', () => {
    assert.deepEqual(apportionUsd(0.4, [3, 1, 0]), [0.3, 0.1, 0]);
  });

  it('gives the picodollars left over to the largest remainders', () => {
    assert.deepEqual(
      apportionUsd(0.01, [1, 1, 1]),
      [0.003333333334, 0.003333333333, 0.003333333333],
    );
    assert.deepEqual(apportionUsd(0.00000000001, [1, 2]), [0.000000000003, 0.000000000007]);
  });

  it('splits evenly when every weight is 0', () => {
    assert.deepEqual(apportionUsd(0.03, [0, 0, 0]), [0.01, 0.01, 0.01]);
  });

  it('returns shares that add up to the bill', () => {
    const weights = Array.from({ length: 997 }, (_, index) => (index * 7919) % 1013);
    const shares = apportionUsd(0.0109512345, weights);
    assert.equal(shares.length, 997);
    assert.equal(sumUsd(shares), 0.0109512345);
  });

  it('returns no shares for no weights', () => {
    assert.deepEqual(apportionUsd(1, []), []);
  });

  it('rejects a negative weight, naming it', () => {
    assert.throws(() => apportionUsd(1, [1, -2]), {
      name: 'RangeError',
      message: 'weights must be finite numbers >= 0, got -2',
    });
  });
});

describe('ROUND_USD_LUA on 127.0.0.1:6379', () => {
  let redis: Redis;

  before(() => {
    redis = new Redis(6379, '127.0.0.1');
  });

  after(async () => {
    await redis.quit();
  });

  /** Runs Lua's roundUsd on the sum of `a` and `b`, and returns formatUsd's text of it. */
  async function luaAdd(a: number, b: number): Promise<string> {
    const script = `${ROUND_USD_LUA}
return formatUsd(roundUsd(tonumber(ARGV[1]) + tonumber(ARGV[2])))`;
    return String(await redis.eval(script, 0, String(a), String(b)));
  }

  it('adds as addUsd does', async () => {
    const pairs: [number, number][] = [
      [0.0003375, 0.00032],
      [0.1, 0.2],
      [0.0006575, -0.0003375],
      [1000.1, 0.0006575],
      [0.00003, 0.00027],
      [0.3, 0.30000000000000004],
      [-0.0000000000004, 0],
      [9007.2, 1e-13],
      [1e6, 0.1],
    ];
    for (const [a, b] of pairs) {
      const text = await luaAdd(a, b);
      assert.equal(Number(text), addUsd(a, b), `${a} + ${b} gave ${text}`);
    }
  });

  it('writes the shortest text that reads back', async () => {
    assert.equal(await luaAdd(0.0003375, 0.00032), '0.0006575');
    assert.equal(await luaAdd(1000.1, 0.0006575), '1000.1006575');
    assert.equal(await luaAdd(-0.0000000000004, 0), '0');
    assert.equal(await luaAdd(0.3, 0.30000000000000004), '0.6');
  });

  it('keeps the digits of an amount it does not round', async () => {
    assert.equal(await luaAdd(1e6, 0.1), '1000000.1');
    assert.equal(await luaAdd(9000, 7.25 + 1e-12), String(9007.25 + 1e-12));
  });
});
