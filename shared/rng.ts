/**
 * Seeded pseudo-random numbers for the trainer. Math.random cannot be seeded, and a training run
 * must be repeatable from its seed: replay sampling, evaluation samples and weight-initialiser seeds
 * all come from here.
 */

/** A uniform draw in [0, 1). */
export type Rng = () => number;

/** mulberry32: 32 bits of state, fast, and statistically good enough for sampling minibatches. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n). */
export function randomIndex(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** A seed for another generator (or a tfjs initialiser) drawn from this one. */
export function deriveSeed(rng: Rng): number {
  return Math.floor(rng() * 2 ** 31);
}

/** `count` distinct indices from [0, n), in increasing order (all of them when count ≥ n). */
export function sampleIndices(rng: Rng, n: number, count: number): Int32Array {
  if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
  // Partial Fisher–Yates over an index array: exact, and O(n) memory is fine at trainer scale.
  const pool = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + randomIndex(rng, n - i);
    const picked = pool[j]!;
    pool[j] = pool[i]!;
    pool[i] = picked;
  }
  return pool.subarray(0, count).sort();
}
