/**
 * US-dollar arithmetic of the platform. Every USD amount that is computed, summed or stored
 * is rounded to a whole number of picodollars (1e-12 USD) after each step. A sum of priced
 * tokens is then the double nearest to its exact decimal value: 0.0003375 + 0.00032 gives
 * 0.0006575, not 0.0006575000000000001. Float noise does not build up over many additions,
 * so a budget that covers N tasks admits exactly N. A picodollar is far below any token
 * price, because a price per million tokens with up to 6 decimals prices each token in whole
 * picodollars. Amounts stay plain doubles in memory, in JSON and in Redis, so no stored or
 * returned format changes as it would with integer units. Integer microdollars would also be
 * coarser than one input token of gpt-4o-mini, at 0.15 USD per million. The Lua scripts apply
 * the same rule through {@link ROUND_USD_LUA}.
 * NOTE: above 2^53 picodollars, about 9,007 USD, doubles are spaced wider than 1e-12, so
 * larger amounts are left unrounded and their sums can carry float noise again.
 */

/** Picodollars per US dollar. */
const PICODOLLARS_PER_USD = 1e12;

/** Picodollars from which a double can no longer hold every whole number. */
const MAX_EXACT_PICODOLLARS = 2 ** 53;

/**
 * Rounds `usd` to the nearest picodollar, with halves toward +Infinity as Math.round does.
 * Returns amounts of 2^53 picodollars or more, NaN and infinities unchanged, and 0
 * for -0.
 */
export function roundUsd(usd: number): number {
  const picodollars = usd * PICODOLLARS_PER_USD;
  if (!(Math.abs(picodollars) < MAX_EXACT_PICODOLLARS)) return usd;
  // Adding 0 turns a -0, from rounding a small negative difference, into 0.
  return Math.round(picodollars) / PICODOLLARS_PER_USD + 0;
}

/** Adds two USD amounts, rounded to the picodollar. */
export function addUsd(a: number, b: number): number {
  return roundUsd(a + b);
}

/** Adds USD amounts, rounding after each addition so the sum does not depend on float noise. */
export function sumUsd(amounts: Iterable<number>): number {
  let sum = 0;
  for (const amount of amounts) sum = roundUsd(sum + amount);
  return sum;
}

/**
 * Splits `totalUsd` in proportion to `weights`, in whole picodollars, and returns one share per
 * weight. The shares add up to `totalUsd` rounded to the picodollar. Rounding each share down
 * leaves picodollars over, which go one each to the shares that rounding cut the most (the
 * largest remainder method), the earlier share first on a tie. With every weight 0 the
 * shares are equal.
 * @throws RangeError when a weight is negative or not finite.
 */
export function apportionUsd(totalUsd: number, weights: readonly number[]): number[] {
  for (const weight of weights) {
    if (!Number.isFinite(weight) || weight < 0) {
      throw new RangeError(`weights must be finite numbers >= 0, got ${String(weight)}`);
    }
  }
  if (weights.length === 0) return [];
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  const shareOf = (amount: number, weight: number) =>
    weightSum === 0 ? amount / weights.length : (amount * weight) / weightSum;
  const totalPicodollars = roundUsd(totalUsd) * PICODOLLARS_PER_USD;
  if (!(Math.abs(totalPicodollars) < MAX_EXACT_PICODOLLARS)) {
    return weights.map((weight) => shareOf(totalUsd, weight));
  }
  const units = Math.round(totalPicodollars);
  const exact = weights.map((weight) => shareOf(units, weight));
  const shares = exact.map((value) => Math.floor(value));
  const leftOver = units - shares.reduce((sum, share) => sum + share, 0);
  const order = exact
    .map((value, index) => ({ index, remainder: value - (shares[index] ?? 0) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index)
    .map((entry) => entry.index);
  // Near 2^53 picodollars, float error in `exact` can leave more picodollars over than there
  // are shares, or fewer than 0, so the loop wraps around and can also take picodollars back.
  for (let step = 0; step < Math.abs(leftOver); step += 1) {
    const position = leftOver > 0 ? step : order.length - 1 - step;
    const index = order[((position % order.length) + order.length) % order.length] ?? 0;
    shares[index] = (shares[index] ?? 0) + Math.sign(leftOver);
  }
  return shares.map((share) => share / PICODOLLARS_PER_USD + 0);
}

/**
 * Lua functions `roundUsd(usd)`, which rounds as {@link roundUsd} does, and
 * `formatUsd(usd)`, which returns the shortest of 15, 16 or 17 significant digits that
 * reads back as the same number. Lua 5.1's tostring keeps only 14 digits. Redis runs
 * Lua 5.1, whose numbers are doubles, so a script computes what JavaScript computes.
 */
export const ROUND_USD_LUA = `
local function roundUsd(usd)
  local picodollars = usd * ${PICODOLLARS_PER_USD}
  if not (math.abs(picodollars) < ${MAX_EXACT_PICODOLLARS}) then return usd end
  local whole = math.floor(picodollars)
  if picodollars - whole >= 0.5 then whole = whole + 1 end
  return whole / ${PICODOLLARS_PER_USD} + 0
end
local function formatUsd(usd)
  for digits = 15, 16 do
    local text = string.format('%.' .. digits .. 'g', usd)
    if tonumber(text) == usd then return text end
  end
  return string.format('%.17g', usd)
end
`;
