import { createRng, type Rng } from "../../shared/rng.ts";

/**
 * Random streams for the simulator. Every draw comes from a generator keyed by (seed, visitor, step,
 * purpose) rather than from one long sequence: a visitor's traffic is then the same whatever policy
 * runs and however many draws another visitor or an earlier step consumed, so policies are compared
 * on common random numbers and a difference in their values is the policies', not the dice's.
 */
export function streamRng(seed: number, ...path: readonly number[]): Rng {
  let h = mix32(mix32(seed >>> 0) ^ Math.floor(seed / 4294967296));
  for (const part of path) h = mix32(h ^ mix32(part >>> 0));
  return createRng(h);
}

/** What a stream is for, so that two purposes of the same visitor and step never share draws. */
export const STREAM = { visitor: 1, world: 2, response: 3, profile: 4 } as const;

/** murmur3's 32-bit finaliser, after a golden-ratio offset so that 0 does not map to 0. */
function mix32(x: number): number {
  let h = (x + 0x9e3779b9) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A finite distribution prepared for sampling. */
export interface Categorical<T> {
  values: readonly T[];
  /** Normalised probabilities, aligned with `values`. */
  probabilities: Float64Array;
  cumulative: Float64Array;
}

export function categorical<T>(values: readonly T[], weights: readonly number[]): Categorical<T> {
  if (values.length !== weights.length || values.length === 0)
    throw new RangeError("categorical needs one weight per value");
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0) || weights.some((w) => !(w >= 0)))
    throw new RangeError("categorical weights must be ≥ 0 with a positive sum");
  const probabilities = Float64Array.from(weights, (w) => w / total);
  const cumulative = new Float64Array(values.length);
  let sum = 0;
  probabilities.forEach((p, i) => (cumulative[i] = sum += p));
  cumulative[values.length - 1] = 1;
  return { values, probabilities, cumulative };
}

/** A categorical over the keys of a weight record (zero-weight keys stay in, never drawn). */
export function categoricalOf<K extends string>(weights: Readonly<Record<K, number>>): Categorical<K> {
  const keys = Object.keys(weights) as K[];
  return categorical(
    keys,
    keys.map((k) => weights[k]),
  );
}

export function drawCategorical<T>(rng: Rng, distribution: Categorical<T>): T {
  const u = rng();
  const { cumulative, values } = distribution;
  for (let i = 0; i < cumulative.length; i++) if (u < cumulative[i]!) return values[i]!;
  return values[values.length - 1]!;
}

/** A whole number ≥ 1 with the given mean (geometric: memoryless, like return gaps tend to be). */
export function drawGeometric(rng: Rng, mean: number): number {
  if (mean <= 1) return 1;
  const p = 1 / mean;
  return 1 + Math.floor(Math.log(1 - rng()) / Math.log(1 - p));
}

/** A uniform integer in [low, high]. */
export function drawInt(rng: Rng, low: number, high: number): number {
  return low + Math.floor(rng() * (high - low + 1));
}
