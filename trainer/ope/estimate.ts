/**
 * What every off-policy estimator returns: a point value, how much data it effectively rests on,
 * and enough structure to recompute it on a resample (for bootstrap intervals) or to bound it
 * (for empirical Bernstein intervals).
 */

export type EstimatorName = "ips" | "snips" | "dr" | "pdwis" | "on-policy" | "on-policy-return" | "first-order";

/** Whether an estimate is of the reward of one decision or of a visit's discounted return. */
export type Horizon = "immediate" | "return";

/**
 * An estimate that is a function of independent units, so it can be resampled: `statistic(counts)`
 * is the estimate on a sample where unit i appears counts[i] times (all ones gives the estimate itself).
 */
export interface Resamplable {
  /** What a unit is: one logged decision, or one visitor with all of its trajectories. */
  unit: "decision" | "visitor";
  unitCount: number;
  statistic(counts: ArrayLike<number>): number;
}

export interface PointEstimate {
  estimator: EstimatorName;
  horizon: Horizon;
  /** NaN when the data cannot identify the value (no logged decision the target could have taken). */
  value: number;
  /** Kish's effective sample size (Σw)²/Σw² of the importance weights behind the estimate. */
  ess: number;
  sample: Resamplable;
  /**
   * The per-unit terms whose plain mean is `value`, when the estimator is such a mean (IPS, DR,
   * on-policy): what a concentration bound such as empirical Bernstein needs. Null for the
   * self-normalised estimators, which are ratios of means.
   */
  meanTerms: Float64Array | null;
}

/** Kish's effective sample size (Σw)²/Σw²: n for equal weights, 1 when one weight dominates, 0 when all are 0. */
export function effectiveSampleSize(weights: ArrayLike<number>): number {
  let sum = 0;
  let sumOfSquares = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i]!;
    sumOfSquares += weights[i]! * weights[i]!;
  }
  return sumOfSquares === 0 ? 0 : (sum * sum) / sumOfSquares;
}

/** Unit multiplicities of the original sample: each unit once. */
export function onceEach(unitCount: number): Uint32Array {
  return new Uint32Array(unitCount).fill(1);
}
