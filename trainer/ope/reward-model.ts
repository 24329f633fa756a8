import type { Dataset } from "../data/dataset.ts";
import type { QModel } from "./target-policy.ts";

export interface RewardModelOptions {
  /**
   * How many pseudo-observations of the broader mean each cell's mean starts with. Larger values
   * trust sparse (state, action) cells less.
   */
  priorStrength: number;
}

export const DEFAULT_REWARD_MODEL_OPTIONS: RewardModelOptions = { priorStrength: 5 };

/**
 * A one-step reward model for doubly robust estimation when no trained Q is at hand: the mean
 * logged reward of each (state key, action), shrunk toward that action's mean, which is itself
 * shrunk toward the overall mean. With k = priorStrength:
 *
 *   r̄      = mean of all rewards
 *   m(a)    = (Σ r over action a + k·r̄) / (n(a) + k)
 *   q̂(s,a) = (Σ r over (s, a) + k·m(a)) / (n(s,a) + k)
 *
 * This is the posterior mean under a conjugate normal prior centred on the broader mean, so an
 * unseen cell predicts m(a) and a well-observed cell its own mean. DR stays unbiased whatever the
 * model predicts; a better model only lowers its variance.
 */
export function fitRewardModel(dataset: Dataset, options: RewardModelOptions = DEFAULT_REWARD_MODEL_OPTIONS): QModel {
  const actionCount = dataset.actions.length;
  const k = options.priorStrength;
  if (!(k >= 0)) throw new RangeError(`priorStrength must be ≥ 0, got ${k}`);

  const rewardByAction = new Float64Array(actionCount);
  const stepsByAction = new Float64Array(actionCount);
  const cells = new Map<number, { sum: Float64Array; count: Float64Array }>();
  let total = 0;
  for (const step of dataset.steps) {
    const key = dataset.states[step.state]!.stateKey;
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { sum: new Float64Array(actionCount), count: new Float64Array(actionCount) }));
    cell.sum[step.action]! += step.reward;
    cell.count[step.action]! += 1;
    rewardByAction[step.action]! += step.reward;
    stepsByAction[step.action]! += 1;
    total += step.reward;
  }

  const overallMean = dataset.steps.length > 0 ? total / dataset.steps.length : 0;
  const actionMean = Float64Array.from(rewardByAction, (sum, a) => shrunkMean(sum, stepsByAction[a]!, overallMean, k));
  const predictions = new Map<number, Float32Array>();
  for (const [key, cell] of cells) {
    predictions.set(
      key,
      Float32Array.from(cell.sum, (sum, a) => shrunkMean(sum, cell.count[a]!, actionMean[a]!, k)),
    );
  }
  const unseen = Float32Array.from(actionMean);
  // A fresh copy per call: a QModel's caller owns the array it gets back.
  return (state) => Float32Array.from(predictions.get(state.stateKey) ?? unseen);
}

/** (sum + k·prior) / (count + k), and the prior itself when there is neither data nor prior weight. */
function shrunkMean(sum: number, count: number, prior: number, k: number): number {
  return count + k === 0 ? prior : (sum + k * prior) / (count + k);
}
