/** Uniform random numbers in [0, 1); the same seed yields the same sequence. */
export type Prng = () => number;

/** One-sided z score of the 95th percentile of the standard normal distribution. */
const Z_95 = 1.6448536269514722;

/** Creates a mulberry32 generator, a fast 32-bit PRNG; not for cryptographic use. */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hashes the parts into a 32-bit seed with FNV-1a. */
export function deriveSeed(...parts: Array<string | number>): number {
  let hash = 0x811c9dc5;
  for (const char of parts.join('\u0000')) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Mixes a 32-bit seed with a request index (murmur3 finalizer), so each request gets its own stream. */
export function mixSeed(seed: number, index: number): number {
  let hash = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** Draws from the standard normal distribution with the Box-Muller transform. */
export function drawStandardNormal(prng: Prng): number {
  const u1 = 1 - prng();
  const u2 = prng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Draws from a lognormal distribution given its median and 95th percentile; 0 when the median is 0. */
export function drawLognormal(prng: Prng, median: number, p95: number): number {
  const z = drawStandardNormal(prng);
  if (median <= 0) {
    return 0;
  }
  const sigma = Math.log(p95 / median) / Z_95;
  return median * Math.exp(sigma * z);
}

/** Draws from a normal distribution clipped below at `min`. */
export function drawClippedNormal(prng: Prng, mean: number, stddev: number, min: number): number {
  return Math.max(min, mean + stddev * drawStandardNormal(prng));
}
