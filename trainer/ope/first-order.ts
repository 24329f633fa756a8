import type { Dataset } from "../data/dataset.ts";
import { laterReturns, transitionColumns } from "../data/transitions.ts";
import { effectiveSampleSize, onceEach, type PointEstimate } from "./estimate.ts";
import { visitorEpisodes } from "./episodes.ts";

/**
 * The value of a candidate minus that of the current policy, per episode, to first order in the
 * change between them (the performance-difference lemma, Kakade & Langford 2002):
 *
 *   V(π′) − V(π) ≈ E_μ[ Σₜ γᵗ (ρ′ₜ − ρₜ) (Gₜ − b(sₜ)) ],   ρ′ₜ = π′(aₜ|xₜ)/μₜ,  ρₜ = π(aₜ|xₜ)/μₜ,
 *
 * where Gₜ is the discounted Monte-Carlo return from decision t on and b a per-state-key baseline
 * (E[ρ′ₜ − ρₜ | xₜ] = 0, so any baseline leaves the mean alone and takes out the variance that
 * comes with the state). Each term reweights one decision only: with logs from the current policy
 * and its exploration, a candidate that changes a few states gets weights no larger than
 * 1/(least propensity), where whole-trajectory importance weights would multiply along a visit and
 * leave an effective sample of a few dozen episodes.
 *
 * It is exact when the candidate changes only decisions after which both policies behave alike
 * (the safe learner deviates only where a visitor has seen no promotion lately, and serves the
 * control after that), and a first-order approximation otherwise. `currentRatios` are ρₜ; all ones
 * when the current policy is the one that logged the data.
 *
 * Resampling units are visitors; the value is per episode, as PDWIS's is.
 */
export function firstOrderImprovement(
  dataset: Dataset,
  candidateRatios: Float64Array,
  currentRatios: Float64Array,
  gamma: number,
): PointEstimate {
  if (!(gamma >= 0 && gamma < 1)) throw new RangeError(`gamma must be in [0, 1), got ${gamma}`);
  const visitors = visitorEpisodes(dataset);
  const columns = transitionColumns(dataset);
  const later = laterReturns(columns, gamma);
  const returns = Float64Array.from(columns.reward, (reward, i) => reward + later[i]!);
  const baseline = meanReturnByStateKey(dataset, returns);
  const sums = new Float64Array(visitors.length);
  const episodeCounts = new Float64Array(visitors.length);
  visitors.forEach(({ episodes }, v) => {
    episodeCounts[v] = episodes.length;
    for (const episode of episodes) {
      let discount = 1;
      for (const i of episode) {
        const key = dataset.states[dataset.steps[i]!.state]!.stateKey;
        sums[v]! += discount * (candidateRatios[i]! - currentRatios[i]!) * (returns[i]! - baseline.get(key)!);
        discount *= gamma;
      }
    }
  });
  const statistic = (counts: ArrayLike<number>) => {
    let top = 0;
    let episodes = 0;
    for (let v = 0; v < sums.length; v++) {
      top += counts[v]! * sums[v]!;
      episodes += counts[v]! * episodeCounts[v]!;
    }
    return episodes === 0 ? Number.NaN : top / episodes;
  };
  return {
    estimator: "first-order",
    horizon: "return",
    value: statistic(onceEach(visitors.length)),
    ess: effectiveSampleSize(candidateRatios),
    sample: { unit: "visitor", unitCount: visitors.length, statistic },
    meanTerms: null,
  };
}

function meanReturnByStateKey(dataset: Dataset, returns: Float64Array): Map<number, number> {
  const sums = new Map<number, [total: number, n: number]>();
  dataset.steps.forEach((step, i) => {
    const key = dataset.states[step.state]!.stateKey;
    const s = sums.get(key) ?? [0, 0];
    s[0] += returns[i]!;
    s[1] += 1;
    sums.set(key, s);
  });
  return new Map([...sums].map(([key, [total, n]]) => [key, total / n]));
}
