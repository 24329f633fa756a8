import type { Dataset } from "../data/dataset.ts";
import type { TargetPolicy } from "./target-policy.ts";
import { effectiveSampleSize, onceEach, type EstimatorName, type PointEstimate, type Resamplable } from "./estimate.ts";
import { visitorEpisodes } from "./episodes.ts";
import { importanceRatios } from "./importance.ts";

/**
 * Per-decision weighted importance sampling (PDWIS) of a target policy's expected discounted return
 * per episode, V(π) = E_π[Σₜ γᵗ rₜ], where an episode is one visitor's chain of linked decisions
 * (see {@link visitorEpisodes}).
 *
 * For episode j with steps t = 0 … Lⱼ−1, the cumulative importance weight is
 *
 *   ρⱼₜ = Π_{k ≤ t} π(aⱼₖ|xⱼₖ) / μⱼₖ
 *
 * and the estimate is (Precup, Sutton & Singh 2000, weighted per-decision form; Thomas 2015 calls it
 * CWPDIS)
 *
 *   V̂ = Σ_{t=0}^{T−1} γᵗ · (Σⱼ ρⱼₜ rⱼₜ) / (Σⱼ ρⱼₜ),   T = maxⱼ Lⱼ.
 *
 * Episodes shorter than T are padded with an absorbing state in which both policies take the same
 * null action with reward 0, so for t ≥ Lⱼ the weight stays ρⱼ,Lⱼ−1 and the reward is 0. Without the
 * padding the ratio at t would estimate the reward at t *given the episode lasted that long*; with it
 * each term estimates E_π[γᵗ rₜ] with rₜ = 0 after the end, which is what the return sums.
 *
 * Each reward is weighted only by the ratios of the decisions before and at it (per-decision), not
 * by the whole episode's, and each time index is self-normalised by the weights' sum (weighted), so
 * the estimator is biased for finite samples but consistent, with much lower variance than
 * ordinary trajectory-wise IS. The time index where every weight is 0 leaves E_π[rₜ] unidentified,
 * and the estimate is NaN.
 *
 * Resampling units are visitors, not episodes, because one visitor's episodes are not independent.
 */
export function pdwis(dataset: Dataset, target: TargetPolicy, gamma: number): PointEstimate {
  return perDecisionWeighted(dataset, importanceRatios(dataset, target), gamma, "pdwis");
}

/**
 * The logging policy's own mean discounted return per episode: PDWIS with every ratio 1, where the
 * weighted per-decision sum reduces exactly to the average of Σₜ γᵗ rₜ over episodes.
 */
export function onPolicyReturn(dataset: Dataset, gamma: number): PointEstimate {
  return perDecisionWeighted(dataset, new Float64Array(dataset.steps.length).fill(1), gamma, "on-policy-return");
}

/**
 * Per-visitor sums of the weighted rewards and weights at each time index, so a resample of
 * visitors only has to add rows: `numerator`/`denominator` hold Σ over the visitor's episodes of
 * ρₜ·rₜ and ρₜ for t < length (flat, from `offset`), and `tail` is the padded weight the visitor
 * adds at every t ≥ length.
 */
interface VisitorTimeSums {
  offset: Int32Array;
  length: Int32Array;
  numerator: Float64Array;
  denominator: Float64Array;
  tail: Float64Array;
  horizon: number;
}

function perDecisionWeighted(
  dataset: Dataset,
  ratios: Float64Array,
  gamma: number,
  estimator: EstimatorName,
): PointEstimate {
  if (!(gamma >= 0 && gamma <= 1)) throw new RangeError(`gamma must be in [0, 1], got ${gamma}`);
  if (dataset.steps.length === 0) throw new RangeError("cannot estimate a policy's value from no logged decisions");
  const { sums, episodeWeights } = visitorTimeSums(dataset, ratios);
  const sample: Resamplable = {
    unit: "visitor",
    unitCount: sums.offset.length,
    statistic: (counts) => discountedWeightedSum(sums, gamma, counts),
  };
  return {
    estimator,
    horizon: "return",
    value: sample.statistic(onceEach(sample.unitCount)),
    // The whole-episode weights are the most spread of the per-decision ones, so their ESS is the pessimistic figure.
    ess: effectiveSampleSize(episodeWeights),
    sample,
    meanTerms: null,
  };
}

function visitorTimeSums(
  dataset: Dataset,
  ratios: Float64Array,
): { sums: VisitorTimeSums; episodeWeights: Float64Array } {
  const visitors = visitorEpisodes(dataset);
  const length = Int32Array.from(visitors, (v) => v.episodes.reduce((longest, e) => Math.max(longest, e.length), 0));
  const offset = new Int32Array(visitors.length);
  let cells = 0;
  length.forEach((l, v) => {
    offset[v] = cells;
    cells += l;
  });
  const numerator = new Float64Array(cells);
  const denominator = new Float64Array(cells);
  const tail = new Float64Array(visitors.length);
  const episodeWeights: number[] = [];

  visitors.forEach(({ episodes }, v) => {
    const base = offset[v]!;
    for (const episode of episodes) {
      let rho = 1;
      episode.forEach((stepIndex, t) => {
        rho *= ratios[stepIndex]!;
        numerator[base + t]! += rho * dataset.steps[stepIndex]!.reward;
        denominator[base + t]! += rho;
      });
      for (let t = episode.length; t < length[v]!; t++) denominator[base + t]! += rho;
      tail[v]! += rho;
      episodeWeights.push(rho);
    }
  });
  const horizon = length.reduce((longest, l) => Math.max(longest, l), 0);
  return {
    sums: { offset, length, numerator, denominator, tail, horizon },
    episodeWeights: Float64Array.from(episodeWeights),
  };
}

/** Σₜ γᵗ (Σᵥ cᵥ·numeratorᵥₜ) / (Σᵥ cᵥ·denominatorᵥₜ), with each visitor's padded tail weight added beyond its length. */
function discountedWeightedSum(sums: VisitorTimeSums, gamma: number, counts: ArrayLike<number>): number {
  const top = new Float64Array(sums.horizon);
  const bottom = new Float64Array(sums.horizon);
  // tailFrom[t]: padded weight of the visitors whose rows end at t; a running sum adds it to every later t.
  const tailFrom = new Float64Array(sums.horizon + 1);
  for (let v = 0; v < sums.offset.length; v++) {
    const c = counts[v]!;
    if (c === 0) continue;
    const base = sums.offset[v]!;
    const length = sums.length[v]!;
    for (let t = 0; t < length; t++) {
      top[t]! += c * sums.numerator[base + t]!;
      bottom[t]! += c * sums.denominator[base + t]!;
    }
    tailFrom[length]! += c * sums.tail[v]!;
  }
  let value = 0;
  let padded = 0;
  let discount = 1;
  for (let t = 0; t < sums.horizon && discount > 0; t++, discount *= gamma) {
    padded += tailFrom[t]!;
    const weight = bottom[t]! + padded;
    if (weight === 0) return Number.NaN;
    value += (discount * top[t]!) / weight;
  }
  return value;
}
