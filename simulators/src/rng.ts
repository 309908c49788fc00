// Seeded pseudo-random numbers for the simulators. Nothing here reads Math.random or the clock:
// every stream is a pure function of its seed, so a run is reproducible from one number.
//
// The generator is mulberry32 (one 32-bit word of state, period 2^32): tiny enough to give every
// simulated shopper its own stream, which is what makes the mall simulation independent of how
// its caller slices time (see mall-sim.ts). Helpers are free functions taking the generator, so
// the hot path allocates nothing and creates no closures.

/** A stream of uniform numbers in [0, 1). */
export interface Rng {
  next(): number;
}

class Mulberry32 implements Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
}

/** A new generator; seeds are reduced to 32 bits (use `deriveSeed` to fold larger numbers in). */
export function createRng(seed: number): Rng {
  return new Mulberry32(seed);
}

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
function mix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * A 32-bit seed for an independent sub-stream, e.g. `deriveSeed(seed, STREAM_SHOPPER, index)`.
 * Integers up to 2^53 are folded in whole (high and low words), so nearby seeds give unrelated
 * streams.
 */
export function deriveSeed(seed: number, ...salts: readonly number[]): number {
  let h = 0x9e3779b9;
  const fold = (value: number): void => {
    const lo = value >>> 0;
    const hi = Math.floor(value / 4_294_967_296) >>> 0;
    h = mix32(h ^ lo);
    h = mix32((h + 0x9e3779b9) ^ hi);
  };
  fold(seed);
  for (const salt of salts) fold(salt);
  return h;
}

/** Uniform in [min, max). */
export function uniform(rng: Rng, min: number, max: number): number {
  return min + (max - min) * rng.next();
}

/** Uniform integer in [min, max], both inclusive. */
export function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng.next() * (max - min + 1));
}

/** True with probability `p`. */
export function chance(rng: Rng, p: number): boolean {
  return rng.next() < p;
}

/**
 * Gaussian by Box-Muller. Only one of the pair is used, so the generator stays a single word of
 * state (no cached spare) at the cost of one extra draw.
 */
export function normal(rng: Rng, mean = 0, sd = 1): number {
  const u = 1 - rng.next(); // (0, 1]: log(0) would be -Infinity
  const v = rng.next();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Log-normal: exp(N(mu, sigma)). The median is exp(mu), so `lognormal(rng, Math.log(m), s)` has median m. */
export function lognormal(rng: Rng, mu: number, sigma: number): number {
  return Math.exp(normal(rng, mu, sigma));
}

/** Exponential with the given mean (not rate); the gap between Poisson events of rate 1/mean. */
export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng.next());
}

/** One element, uniformly. Throws a RangeError on an empty list (a programming error). */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick: empty list');
  return items[Math.floor(rng.next() * items.length)]!;
}

/** An index chosen with probability proportional to `weights[i]`; -1 when all weights are 0. */
export function pickWeighted(rng: Rng, weights: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i]!;
  if (total <= 0) return -1;
  let r = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0 && weights[i]! > 0) return i;
  }
  // Floating-point leftovers: the last positive weight.
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
  return -1;
}
