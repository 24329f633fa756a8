import type { Interval } from "./bootstrap.ts";

/** Bounds every term is known to lie in, before seeing the data. */
export interface TermRange {
  min: number;
  max: number;
}

/**
 * Two-sided empirical Bernstein interval for the mean of n i.i.d. terms in [min, max]
 * (Maurer & Pontil 2009, Theorem 4): with probability at least 1 − δ on each side,
 *
 *   |mean − E| ≤ √(2·V·ln(2/δ) / n) + 7·(max − min)·ln(2/δ) / (3(n − 1)),
 *
 * where V is the unbiased sample variance. Spending δ = (1 − level)/2 per side gives coverage of at
 * least `level` for any n ≥ 2 — a guarantee, not an asymptotic approximation, so it is conservative,
 * and its width grows with the range, which for importance-weighted terms is the largest weight.
 * The interval is clipped to the range, which holds the mean by definition.
 */
export function empiricalBernsteinInterval(terms: Float64Array, range: TermRange, level: number): Interval {
  const n = terms.length;
  if (n < 2) throw new RangeError("an empirical Bernstein interval needs at least 2 terms");
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
  if (!(range.max >= range.min)) throw new RangeError(`empty term range [${range.min}, ${range.max}]`);

  let sum = 0;
  for (const term of terms) {
    if (term < range.min || term > range.max)
      throw new RangeError(`term ${term} lies outside the stated range [${range.min}, ${range.max}]`);
    sum += term;
  }
  const mean = sum / n;
  let squares = 0;
  for (const term of terms) squares += (term - mean) ** 2;
  const variance = squares / (n - 1);

  const logTerm = Math.log(2 / ((1 - level) / 2));
  const radius = Math.sqrt((2 * variance * logTerm) / n) + (7 * (range.max - range.min) * logTerm) / (3 * (n - 1));
  return { lower: Math.max(range.min, mean - radius), upper: Math.min(range.max, mean + radius) };
}
