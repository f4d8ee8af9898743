import type { Distribution } from '../scenario/types.js';

/** z-score of the 95th percentile of the standard normal distribution. */
const Z_95 = 1.6448536269514722;

/** Seeded pseudo-random source; the same seed always yields the same sequence. */
export interface Random {
  /** Uniform number in [0, 1). */
  next(): number;
  /** Exponentially distributed gap with mean `1 / rate`. */
  exponential(rate: number): number;
  /** Picks one item with probability proportional to its weight. */
  pickWeighted<T extends { weight: number }>(items: readonly T[]): T;
  /** Draws a value from a size distribution, rounded to a non-negative integer. */
  drawInteger(distribution: Distribution): number;
}

/** Creates a Random from a 32-bit seed (mulberry32 generator). */
export function createRandom(seed: number): Random {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    exponential: (rate) => -Math.log(1 - next()) / rate,
    pickWeighted: (items) => pickWeighted(items, next()),
    drawInteger: (distribution) => Math.max(0, Math.round(draw(distribution, next))),
  };
}

function pickWeighted<T extends { weight: number }>(items: readonly T[], u: number): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let remaining = u * total;
  for (const item of items) {
    remaining -= item.weight;
    if (remaining < 0) return item;
  }
  const last = items.at(-1);
  if (last === undefined) throw new RangeError('cannot pick from an empty list');
  return last;
}

function draw(distribution: Distribution, next: () => number): number {
  switch (distribution.kind) {
    case 'constant':
      return distribution.value;
    case 'uniform':
      return distribution.min + next() * (distribution.max - distribution.min);
    case 'lognormal': {
      const mu = Math.log(distribution.median);
      const sigma = (Math.log(distribution.p95) - mu) / Z_95;
      return Math.exp(mu + sigma * standardNormal(next));
    }
  }
}

/** Box-Muller transform. */
function standardNormal(next: () => number): number {
  const u = 1 - next();
  const v = next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
