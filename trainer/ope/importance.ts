import type { Dataset, Step } from "../data/dataset.ts";
import type { TargetPolicy } from "./target-policy.ts";

/**
 * Importance ratio of each logged step, π(aᵢ|xᵢ) / μᵢ, where μᵢ is the logged propensity of the
 * action the logging policy took. This is the likelihood ratio that makes E_μ[w·r] = E_π[r]
 * (Horvitz & Thompson 1952), valid wherever μ > 0 whenever π > 0.
 */
export function importanceRatios(dataset: Dataset, target: TargetPolicy): Float64Array {
  return Float64Array.from(dataset.steps, (step) =>
    importanceRatio(step, targetProbabilities(dataset, target, step.state)),
  );
}

/** π(aᵢ|xᵢ) / μᵢ for one step, given π(·|xᵢ); refuses a propensity that cannot be a probability of a taken action. */
export function importanceRatio(step: Step, targetProbabilitiesAtStep: Float64Array): number {
  if (!(step.propensity > 0 && step.propensity <= 1)) {
    throw new RangeError(`step ${step.decisionId} has propensity ${step.propensity} outside (0, 1]`);
  }
  return targetProbabilitiesAtStep[step.action]! / step.propensity;
}

/** π(·|x) in logged state `stateIndex`. */
export function targetProbabilities(dataset: Dataset, target: TargetPolicy, stateIndex: number): Float64Array {
  const state = dataset.states[stateIndex];
  if (!state) throw new RangeError(`state ${stateIndex} is not in the dataset`);
  return target.probabilities(state);
}
