/**
 * The statistics of a live experiment, shared by the edge's monitor and `promo report experiment`,
 * so that both read the same figures the same way. The unit is the visitor: one visitor's page
 * views are not independent (the same person, the same cookie, the same arm), so every interval is
 * built over per-visitor totals, and rates per decision use the delta method over visitors.
 */

/** One visitor's totals over the experiment, in the arm it was assigned. */
export interface VisitorTotals {
  decisions: number;
  clicks: number;
  conversions: number;
  revenue: number;
  /** What the promotions shown cost on the orders they were used on. */
  promotionCost: number;
  /** Margin on those orders before promotion costs. */
  margin: number;
  /** The reward the learners optimise, summed over the visitor's decisions (shared/reward.ts). */
  value: number;
}

/** A mean and its standard error. */
export interface Estimate {
  mean: number;
  se: number;
}

/** An arm's figures: per visitor, or (rates) per decision with visitor-level standard errors. */
export interface ArmFigures {
  visitors: number;
  decisions: number;
  clickRate: Estimate;
  conversionRate: Estimate;
  revenuePerVisitor: Estimate;
  marginPerVisitor: Estimate;
  promotionCostPerVisitor: Estimate;
  valuePerVisitor: Estimate;
}

function meanOf(values: readonly number[]): Estimate {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, se: Number.NaN };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { mean, se: n > 1 ? Math.sqrt(squares / (n - 1) / n) : Number.NaN };
}

/**
 * Σ numerator / Σ denominator over visitors, with the delta method's standard error: the variance
 * of the per-visitor residuals (numerator − ratio × denominator), scaled by the mean denominator.
 */
export function ratioOf(numerators: readonly number[], denominators: readonly number[]): Estimate {
  const n = numerators.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += numerators[i]!;
    den += denominators[i]!;
  }
  if (n < 2 || den === 0) return { mean: den === 0 ? Number.NaN : num / den, se: Number.NaN };
  const ratio = num / den;
  const meanDen = den / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (numerators[i]! - ratio * denominators[i]!) ** 2;
  return { mean: ratio, se: Math.sqrt(squares / (n - 1) / n) / meanDen };
}

export function armFigures(visitors: readonly VisitorTotals[]): ArmFigures {
  const column = (pick: (v: VisitorTotals) => number) => visitors.map(pick);
  const decisions = column((v) => v.decisions);
  return {
    visitors: visitors.length,
    decisions: decisions.reduce((a, b) => a + b, 0),
    clickRate: ratioOf(
      column((v) => v.clicks),
      decisions,
    ),
    conversionRate: ratioOf(
      column((v) => v.conversions),
      decisions,
    ),
    revenuePerVisitor: meanOf(column((v) => v.revenue)),
    marginPerVisitor: meanOf(column((v) => v.margin)),
    promotionCostPerVisitor: meanOf(column((v) => v.promotionCost)),
    valuePerVisitor: meanOf(column((v) => v.value)),
  };
}

/** Two-sided 95% normal quantile: the fixed-horizon interval, for one look at the end. */
export const Z95 = 1.959963984540054;

/** candidate − control, from independent arms: the estimate and its standard error. */
export function differenceOf(candidate: Estimate, control: Estimate): Estimate {
  return { mean: candidate.mean - control.mean, se: Math.hypot(candidate.se, control.se) };
}

export interface Interval {
  lo: number;
  hi: number;
}

export function fixedInterval(d: Estimate, z = Z95): Interval {
  return { lo: d.mean - z * d.se, hi: d.mean + z * d.se };
}

/**
 * The mixture sequential probability ratio test (mSPRT) of "difference = 0" for a normal estimate,
 * with a N(0, τ²) mixture over the alternative (Johari, Pekelis and Walsh, "Always valid
 * inference", 2017; what Optimizely's stats engine uses). Its likelihood ratio
 *
 *   Λ = sqrt(V / (V + τ²)) · exp(τ² d² / (2 V (V + τ²))),   V = se²,
 *
 * is a martingale under the null, so by Ville's inequality P(Λ ever ≥ 1/α) ≤ α: the test may be
 * read after every batch of data (every hour, by the monitor) and stopped at the first crossing
 * without inflating the false-positive rate. The always-valid p-value is min over looks of 1/Λ.
 */
export function mixtureLikelihoodRatio(d: Estimate, tau: number): number {
  const v = d.se * d.se;
  const t2 = tau * tau;
  if (!(v > 0) || !(t2 > 0)) return 1;
  return Math.sqrt(v / (v + t2)) * Math.exp((t2 * d.mean * d.mean) / (2 * v * (v + t2)));
}

/**
 * The confidence sequence that inverts the mSPRT: every difference θ with Λ(θ) < 1/α. It covers
 * the true difference at every look at once with probability ≥ 1 − α, so a decision taken when it
 * first excludes a value (0, or a guardrail's margin) stays valid however often it was read.
 */
export function alwaysValidInterval(d: Estimate, tau: number, alpha: number): Interval {
  const v = d.se * d.se;
  const t2 = tau * tau;
  if (!(v > 0) || !(t2 > 0)) return { lo: Number.NEGATIVE_INFINITY, hi: Number.POSITIVE_INFINITY };
  const half = Math.sqrt(((v * (v + t2)) / t2) * (Math.log((v + t2) / v) - 2 * Math.log(alpha)));
  return { lo: d.mean - half, hi: d.mean + half };
}

/** χ² critical values at p = 0.001, by degrees of freedom (1–7: experiments have 2–8 arms). */
const CHI_SQUARE_0_001 = [10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322];

export interface SampleRatioCheck {
  chiSquare: number;
  degreesOfFreedom: number;
  /** True when the counts are this far from the weights with p < 0.001: assignment is broken. */
  mismatch: boolean;
}

/**
 * The sample-ratio-mismatch check: visitors per arm against the configured weights, by Pearson's
 * χ². A mismatch means the arms are not comparable (lost logs in one arm, a bot, a bug), so no
 * other figure of the experiment should be trusted. p < 0.001, as the platforms use, because it is
 * read at every look.
 */
export function sampleRatioCheck(counts: readonly number[], weights: readonly number[]): SampleRatioCheck {
  const total = counts.reduce((a, b) => a + b, 0);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  let chiSquare = 0;
  for (let i = 0; i < counts.length; i++) {
    const expected = (total * weights[i]!) / weightSum;
    if (expected > 0) chiSquare += (counts[i]! - expected) ** 2 / expected;
  }
  const degreesOfFreedom = counts.length - 1;
  // One arm (a shadow run): there is no ratio to check.
  if (degreesOfFreedom === 0) return { chiSquare: 0, degreesOfFreedom, mismatch: false };
  const critical = CHI_SQUARE_0_001[degreesOfFreedom - 1];
  if (critical === undefined) throw new RangeError(`${counts.length} arms: between 1 and 8 are supported`);
  return { chiSquare, degreesOfFreedom, mismatch: total > 0 && chiSquare > critical };
}
