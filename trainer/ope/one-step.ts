import type { Dataset } from "../data/dataset.ts";
import type { QModel, TargetPolicy } from "./target-policy.ts";
import { effectiveSampleSize, onceEach, type EstimatorName, type PointEstimate } from "./estimate.ts";
import { importanceRatio, importanceRatios, targetProbabilities } from "./importance.ts";
import { decisionSample, weightedRatio, type RatioTerms } from "./ratio-terms.ts";

/**
 * Estimators of a target policy's expected immediate reward per decision, V(π) = E_x Σₐ π(a|x) r̄(x,a),
 * from decisions logged by another policy μ. Each decision is one resampling unit.
 */

/**
 * Inverse propensity scoring (Horvitz & Thompson 1952): V̂ = (1/n) Σᵢ wᵢ rᵢ with wᵢ = π(aᵢ|xᵢ)/μᵢ.
 * Unbiased when the logged propensities are right, with variance growing with the weights.
 */
export function ips(dataset: Dataset, target: TargetPolicy): PointEstimate {
  const w = importanceRatios(dataset, target);
  const numerator = Float64Array.from(dataset.steps, (step, i) => w[i]! * step.reward);
  return oneStepEstimate("ips", { numerator, denominator: null }, w);
}

/**
 * Self-normalised IPS (Swaminathan & Joachims 2015): V̂ = Σᵢ wᵢ rᵢ / Σᵢ wᵢ. Biased by O(1/n) but
 * consistent, invariant to a constant shift of the reward, and usually far less variable than IPS.
 */
export function snips(dataset: Dataset, target: TargetPolicy): PointEstimate {
  const w = importanceRatios(dataset, target);
  const numerator = Float64Array.from(dataset.steps, (step, i) => w[i]! * step.reward);
  return oneStepEstimate("snips", { numerator, denominator: w }, w);
}

/**
 * Doubly robust (Dudík, Langford & Li 2011): V̂ = (1/n) Σᵢ [ Σₐ π(a|xᵢ) q̂(xᵢ,a) + wᵢ (rᵢ − q̂(xᵢ,aᵢ)) ].
 * The reward model is a control variate: unbiased whatever q̂ is (given right propensities), and the
 * closer q̂ is to the true mean reward, the less of the importance weights' variance is left.
 */
export function doublyRobust(dataset: Dataset, target: TargetPolicy, rewardModel: QModel): PointEstimate {
  const w = new Float64Array(dataset.steps.length);
  const numerator = Float64Array.from(dataset.steps, (step, i) => {
    const pi = targetProbabilities(dataset, target, step.state);
    const predicted = rewardModel(dataset.states[step.state]!);
    let modelValue = 0;
    for (let a = 0; a < pi.length; a++) if (pi[a]! > 0) modelValue += pi[a]! * predicted[a]!;
    w[i] = importanceRatio(step, pi);
    return modelValue + w[i]! * (step.reward - predicted[step.action]!);
  });
  return oneStepEstimate("dr", { numerator, denominator: null }, w);
}

/** The logging policy's own value: the mean logged reward (every importance weight is 1). */
export function onPolicyValue(dataset: Dataset): PointEstimate {
  const numerator = Float64Array.from(dataset.steps, (step) => step.reward);
  return oneStepEstimate("on-policy", { numerator, denominator: null }, new Float64Array(numerator.length).fill(1));
}

function oneStepEstimate(estimator: EstimatorName, terms: RatioTerms, weights: Float64Array): PointEstimate {
  if (terms.numerator.length === 0) throw new RangeError("cannot estimate a policy's value from no logged decisions");
  return {
    estimator,
    horizon: "immediate",
    value: weightedRatio(terms, onceEach(terms.numerator.length)),
    ess: effectiveSampleSize(weights),
    sample: decisionSample(terms),
    meanTerms: terms.denominator ? null : terms.numerator,
  };
}
