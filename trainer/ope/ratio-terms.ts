import type { Resamplable } from "./estimate.ts";

/**
 * Per-decision contributions of a one-step estimator: the estimate is Σᵢ numeratorᵢ / Σᵢ denominatorᵢ,
 * or the plain mean of the numerators when `denominator` is null (every decision counts once).
 * IPS and DR are plain means; SNIPS divides by the sum of the importance weights.
 */
export interface RatioTerms {
  numerator: Float64Array;
  denominator: Float64Array | null;
}

/** Σ cᵢ·numeratorᵢ / Σ cᵢ·denominatorᵢ for unit multiplicities c; NaN when the denominator is 0. */
export function weightedRatio(terms: RatioTerms, counts: ArrayLike<number>): number {
  const { numerator, denominator } = terms;
  // No skipping of zero counts: a third of a resample's counts are 0, at random, and the branch
  // mispredicts more than multiplying by 0 costs. This loop runs replicates × decisions times.
  let top = 0;
  let bottom = 0;
  if (denominator) {
    for (let i = 0; i < numerator.length; i++) {
      const c = counts[i]!;
      top += c * numerator[i]!;
      bottom += c * denominator[i]!;
    }
  } else {
    for (let i = 0; i < numerator.length; i++) {
      const c = counts[i]!;
      top += c * numerator[i]!;
      bottom += c;
    }
  }
  return bottom === 0 ? Number.NaN : top / bottom;
}

/** The estimate of `terms` as a statistic of resampled decisions. */
export function decisionSample(terms: RatioTerms): Resamplable {
  return {
    unit: "decision",
    unitCount: terms.numerator.length,
    statistic: (counts) => weightedRatio(terms, counts),
  };
}
